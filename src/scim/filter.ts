/**
 * SCIM filter and path parsing (RFC 7644 §3.4.2.2 filters, §3.5.2 PATCH paths): the grammar, over
 * the character-level Scanner of filter-lexer.ts. The tree and its printer are in filter-ast.ts;
 * the evaluator PATCH needs for value filters (`emails[type eq "work"]`) is in filter-eval.ts.
 *
 * A hand-written recursive-descent parser over characters: every loop consumes input or stops,
 * so the cost is linear in the input; recursion is bounded by `maxDepth`. Nothing here throws
 * anything but ScimError (400 invalidFilter for filters, 400 invalidPath for paths).
 *
 * Dialects accepted besides the RFC grammar (Microsoft Entra ID sends them):
 * - unquoted literals: `externalId eq jyoung`, `userName eq alice@example.com`. The token runs up
 *   to whitespace, a parenthesis, a bracket or a quote; it is `true`/`false`/`null` or a JSON
 *   number when it reads as one, otherwise a string;
 * - `emails[type eq "work"].value eq "x"` in a filter: rewritten to the RFC form
 *   `emails[type eq "work" and value eq "x"]`, i.e. a valuePath whose filter is the bracket filter
 *   and-ed with the comparison on the sub-attribute.
 * Whitespace between tokens may be any run of spaces, tabs or line breaks (the ABNF says one SP).
 */
import { ScimError } from './errors.ts';
import type { AttributePath, CompareOperator, FilterNode, FilterValue, PatchPath } from './filter-ast.ts';
import { isDelimiter, type Mode, quote, Scanner } from './filter-lexer.ts';

export interface ParseLimits {
  /** Longest accepted input, in UTF-16 code units. */
  maxLength: number;
  /** Deepest nesting of parentheses, `not ( )` and value-filter brackets. */
  maxDepth: number;
}

export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = Object.freeze({ maxLength: 4096, maxDepth: 32 });

const COMPARE_OPERATORS: ReadonlySet<string> = new Set([
  'eq',
  'ne',
  'co',
  'sw',
  'ew',
  'gt',
  'ge',
  'lt',
  'le',
]);
const OPERATOR_LIST = 'eq, ne, co, sw, ew, gt, ge, lt, le, pr';

// JSON number (RFC 8259 §6). Anchored, no nested quantifiers: linear, no backtracking blow-up.
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** The grammar: filters, attribute paths and value paths, over the Scanner's tokens. */
class Parser extends Scanner {
  /** Inside `[...]`: the ABNF's valFilter has no nested value paths. */
  inBrackets = false;

  // FILTER: or-expressions of and-expressions of unary expressions (not > and > or, §3.4.2.2).
  parseOr(): FilterNode {
    let left = this.parseAnd();
    for (;;) {
      // Whitespace is skipped for good: every caller skips it next anyway, and not rewinding
      // keeps each character scanned a bounded number of times.
      this.skipSpace();
      if (!this.keyword('or')) return left;
      this.skipSpace();
      left = { type: 'or', left, right: this.parseAnd() };
    }
  }

  parseAnd(): FilterNode {
    let left = this.parseUnary();
    for (;;) {
      // Whitespace is skipped for good: every caller skips it next anyway, and not rewinding
      // keeps each character scanned a bounded number of times.
      this.skipSpace();
      if (!this.keyword('and')) return left;
      this.skipSpace();
      left = { type: 'and', left, right: this.parseUnary() };
    }
  }

  parseUnary(): FilterNode {
    this.skipSpace();
    const start = this.pos;
    const c = this.peek();
    if (c === '(') {
      this.enter(start);
      this.pos++;
      const inner = this.parseGroup(start);
      this.leave();
      return inner;
    }
    // `not` is only an operator when a parenthesis follows (RFC 7644 §3.4.2.2: "not" "(" FILTER ")");
    // otherwise `not` is read as an attribute name.
    const save = this.pos;
    if (this.keyword('not')) {
      this.skipSpace();
      if (this.peek() === '(') {
        this.enter(start);
        const open = this.pos;
        this.pos++;
        const inner = this.parseGroup(open);
        this.leave();
        return { type: 'not', filter: inner };
      }
      this.pos = save;
    }
    if (this.atEnd() || isDelimiter(c)) {
      this.fail(start, `expected an attribute path, "(" or "not (", found ${this.found()}`);
    }
    return this.parseAttributeExpression();
  }

  /** After `(`: a filter and the closing `)`. */
  parseGroup(open: number): FilterNode {
    const inner = this.parseOr();
    this.skipSpace();
    if (this.peek() !== ')') {
      if (this.atEnd()) this.fail(this.pos, `expected ")" to close the "(" at position ${open + 1}`);
      this.fail(this.pos, `expected "and", "or" or ")", found ${this.found()}`);
    }
    this.pos++;
    return inner;
  }

  /** attrExp, or valuePath (with Entra's `].subAttr op value` rewrite). */
  parseAttributeExpression(): FilterNode {
    const pathStart = this.pos;
    const token = this.readToken();
    const path = this.attributePath(token, pathStart);
    if (this.peek() === '[') {
      if (this.inBrackets) this.fail(this.pos, 'value filters cannot be nested inside brackets');
      const bracketFilter = this.parseBrackets(path, pathStart);
      if (this.peek() !== '.') return { type: 'valuePath', path, filter: bracketFilter };
      // Entra ID: `emails[type eq "work"].value eq "x"` == `emails[type eq "work" and value eq "x"]`.
      const subStart = this.pos + 1;
      this.pos++;
      const sub = this.readToken();
      this.checkName(sub, subStart, 'a sub-attribute name after "]."');
      const comparison = this.parseComparison({ attribute: sub }, `${token}[...].${sub}`);
      return { type: 'valuePath', path, filter: { type: 'and', left: bracketFilter, right: comparison } };
    }
    return this.parseComparison(path, token);
  }

  /** `[` valFilter `]`, positioned at `[`. */
  parseBrackets(path: AttributePath, pathStart: number): FilterNode {
    if (path.subAttribute !== undefined) {
      this.fail(pathStart, 'a value filter "[...]" must follow an attribute name, not a sub-attribute');
    }
    const open = this.pos;
    this.enter(open);
    this.pos++;
    this.inBrackets = true;
    const inner = this.parseOr();
    this.skipSpace();
    if (this.peek() !== ']') {
      if (this.atEnd()) this.fail(this.pos, `expected "]" to close the "[" at position ${open + 1}`);
      this.fail(this.pos, `expected "and", "or" or "]", found ${this.found()}`);
    }
    this.pos++;
    this.inBrackets = false;
    this.leave();
    return inner;
  }

  /** After an attribute path: SP "pr", or SP compareOp SP compValue. */
  parseComparison(path: AttributePath, shown: string): FilterNode {
    const beforeSpace = this.pos;
    this.skipSpace();
    const opStart = this.pos;
    const word = this.readToken();
    const op = word.toLowerCase();
    if (opStart === beforeSpace || !(op === 'pr' || COMPARE_OPERATORS.has(op))) {
      this.pos = opStart;
      this.fail(
        opStart,
        `expected a comparison operator (${OPERATOR_LIST}) after ${quote(shown)}, found ${word ? quote(word) : this.found()}`,
      );
    }
    if (op === 'pr') return { type: 'present', path };
    const operator = op as CompareOperator;
    this.skipSpace();
    const valueStart = this.pos;
    const value = this.parseValue(word);
    // RFC 7644 §3.4.2.2: ordering and substring operators on booleans (and null) are a 400
    // invalidFilter. Only literal types are known here; attribute types are the mapping layer's.
    if ((value === null || typeof value === 'boolean') && operator !== 'eq' && operator !== 'ne') {
      this.fail(valueStart, `operator "${op}" cannot compare with ${String(value)}`);
    }
    return { type: 'compare', path, operator, value };
  }

  /** compValue = false / null / true / number / string, plus Entra's unquoted tokens. */
  parseValue(operator: string): FilterValue {
    const start = this.pos;
    if (this.peek() === '"') return this.parseString();
    const token = this.readToken();
    if (token === '') this.fail(start, `expected a value after "${operator}", found ${this.found()}`);
    const lower = token.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    if (lower === 'null') return null;
    if (JSON_NUMBER.test(token)) {
      const n = Number(token);
      if (!Number.isFinite(n)) this.fail(start, `number ${quote(token)} is out of range`);
      return n;
    }
    return token;
  }

  /**
   * attrPath = [URI ":"] ATTRNAME *1subAttr. The schema URN is everything before the last colon
   * (URNs contain dots, as in `...:enterprise:2.0:User:manager.value`); the rest is
   * `name` or `name.subName`.
   */
  attributePath(token: string, at: number): AttributePath {
    const colon = token.lastIndexOf(':');
    let schema: string | undefined;
    let rest = token;
    let restAt = at;
    if (colon !== -1) {
      schema = token.slice(0, colon);
      rest = token.slice(colon + 1);
      restAt = at + colon + 1;
      const segments = schema.split(':');
      if (segments.length < 3 || segments[0]?.toLowerCase() !== 'urn' || segments.some((s) => s === '')) {
        this.fail(at, `expected a schema URN ("urn:...") before the attribute name in ${quote(token)}`);
      }
    }
    const dot = rest.indexOf('.');
    const name = dot === -1 ? rest : rest.slice(0, dot);
    this.checkName(
      name,
      restAt,
      schema === undefined ? 'an attribute name' : 'an attribute name after the schema URN',
    );
    const path: AttributePath = { attribute: name };
    if (schema !== undefined) path.schema = schema;
    if (dot !== -1) {
      const sub = rest.slice(dot + 1);
      const subAt = restAt + dot + 1;
      const second = sub.indexOf('.');
      if (second !== -1) this.fail(subAt + second, 'a path has at most one sub-attribute ("name.sub")');
      if (sub === '') this.fail(subAt, `expected a sub-attribute name after "${name}."`);
      this.checkName(sub, subAt, 'a sub-attribute name');
      path.subAttribute = sub;
    }
    return path;
  }
}

function resolveLimits(limits: Partial<ParseLimits> | undefined): ParseLimits {
  const maxLength = limits?.maxLength ?? DEFAULT_PARSE_LIMITS.maxLength;
  const maxDepth = limits?.maxDepth ?? DEFAULT_PARSE_LIMITS.maxDepth;
  return {
    maxLength: Number.isFinite(maxLength) && maxLength >= 0 ? maxLength : DEFAULT_PARSE_LIMITS.maxLength,
    // Bounded so recursion can never exhaust the stack, whatever a caller passes.
    maxDepth:
      Number.isFinite(maxDepth) && maxDepth >= 1 ? Math.min(maxDepth, 1000) : DEFAULT_PARSE_LIMITS.maxDepth,
  };
}

/** Runs a parse, turning anything unexpected into the mode's ScimError (never another exception). */
function guarded<T>(mode: Mode, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof ScimError) throw err;
    const detail = `Invalid ${mode}: it could not be parsed`;
    throw mode === 'filter' ? ScimError.invalidFilter(detail) : ScimError.invalidPath(detail);
  }
}

function checkInput(text: unknown, mode: Mode, maxLength: number): string {
  const what = mode === 'filter' ? 'filter' : 'path';
  const raise = (detail: string): never => {
    throw mode === 'filter' ? ScimError.invalidFilter(detail) : ScimError.invalidPath(detail);
  };
  if (typeof text !== 'string') return raise(`Invalid ${what}: expected a string`);
  if (text.length > maxLength) {
    return raise(`Invalid ${what}: it is ${text.length} characters long; the limit is ${maxLength}`);
  }
  if (text.trim() === '') return raise(`Invalid ${what}: it is empty`);
  return text;
}

/**
 * Parses a `filter` query parameter (RFC 7644 §3.4.2.2). Throws 400 invalidFilter with the
 * 1-based position and what was expected.
 */
export function parseFilter(text: string, limits?: Partial<ParseLimits>): FilterNode {
  const { maxLength, maxDepth } = resolveLimits(limits);
  const input = checkInput(text, 'filter', maxLength);
  return guarded('filter', () => {
    const p = new Parser(input, 'filter', maxDepth);
    const node = p.parseOr();
    p.skipSpace();
    if (!p.atEnd()) {
      if (p.peek() === ')') p.fail(p.pos, 'unbalanced ")"');
      if (p.peek() === ']') p.fail(p.pos, 'unbalanced "]"');
      p.fail(p.pos, `expected "and", "or" or the end of the filter, found ${p.found()}`);
    }
    return node;
  });
}

/** The attribute path a `path` text starts with (after any spaces), and where it starts; 400 invalidPath when none. */
function leadingAttributePath(p: Parser): { path: AttributePath; start: number } {
  p.skipSpace();
  const start = p.pos;
  const token = p.readToken();
  if (token === '') p.fail(start, `expected an attribute path, found ${p.found()}`);
  return { path: p.attributePath(token, start), start };
}

/**
 * Parses a plain attribute path (`attributes`, `excludedAttributes`, `sortBy`, keys of a path-less
 * PATCH value): `[urn:]name[.sub]`. Throws 400 invalidPath.
 */
export function parseAttributePath(text: string): AttributePath {
  const input = checkInput(text, 'path', DEFAULT_PARSE_LIMITS.maxLength);
  return guarded('path', () => {
    const p = new Parser(input, 'path', DEFAULT_PARSE_LIMITS.maxDepth);
    const { path } = leadingAttributePath(p);
    p.skipSpace();
    if (!p.atEnd()) p.fail(p.pos, `expected the end of the attribute path, found ${p.found()}`);
    return path;
  });
}

/**
 * Parses a PATCH `path` (RFC 7644 §3.5.2): `attrPath`, or `valuePath [ "." subAttr ]`
 * (`members[value eq "2819c223"]`, `emails[type eq "work"].value`). Throws 400 invalidPath.
 */
export function parsePatchPath(text: string): PatchPath {
  const input = checkInput(text, 'path', DEFAULT_PARSE_LIMITS.maxLength);
  return guarded('path', () => {
    const p = new Parser(input, 'path', DEFAULT_PARSE_LIMITS.maxDepth);
    const { path, start } = leadingAttributePath(p);
    const result: PatchPath = { path };
    if (p.peek() === '[') {
      result.valueFilter = p.parseBrackets(path, start);
      if (p.peek() === '.') {
        const subAt = p.pos + 1;
        p.pos++;
        const sub = p.readToken();
        p.checkName(sub, subAt, 'a sub-attribute name after "]."');
        result.subAttribute = sub;
      }
    }
    p.skipSpace();
    if (!p.atEnd()) p.fail(p.pos, `expected the end of the path, found ${p.found()}`);
    return result;
  });
}

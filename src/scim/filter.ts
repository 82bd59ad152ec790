/**
 * SCIM filter and path parsing (RFC 7644 §3.4.2.2 filters, §3.5.2 PATCH paths) and the small
 * evaluator PATCH needs for value filters (`emails[type eq "work"]`).
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
import type { AttributeDefinition } from './schema-types.ts';

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
/** Longest excerpt of the input quoted back in an error detail. */
const EXCERPT = 40;

// JSON number (RFC 8259 §6). Anchored, no nested quantifiers: linear, no backtracking blow-up.
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

type Mode = 'filter' | 'path';

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}
function isAlpha(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}
function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}
/** Characters that end a bare token (attribute path, operator, unquoted literal). */
function isDelimiter(c: string | undefined): boolean {
  return c === undefined || isSpace(c) || c === '(' || c === ')' || c === '[' || c === ']' || c === '"';
}
function quote(s: string): string {
  const cut = s.length > EXCERPT ? `${s.slice(0, EXCERPT)}...` : s;
  return JSON.stringify(cut);
}

/**
 * ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA (RFC 7643 §2.1, RFC 7644
 * §3.4.2.2); `$ref` (RFC 7643 §2.4 reference sub-attribute) is accepted too. Returns the offset of
 * the first bad character, or -1.
 */
function badNameCharAt(name: string): number {
  if (name.length === 0) return 0;
  if (name.toLowerCase() === '$ref') return -1;
  if (!isAlpha(name[0])) return 0;
  for (let i = 1; i < name.length; i++) {
    const c = name[i];
    if (!(isAlpha(c) || isDigit(c) || c === '-' || c === '_')) return i;
  }
  return -1;
}

class Parser {
  readonly text: string;
  readonly mode: Mode;
  readonly maxDepth: number;
  pos = 0;
  depth = 0;
  /** Inside `[...]`: the ABNF's valFilter has no nested value paths. */
  inBrackets = false;

  constructor(text: string, mode: Mode, maxDepth: number) {
    this.text = text;
    this.mode = mode;
    this.maxDepth = maxDepth;
  }

  fail(at: number, message: string): never {
    const what = this.mode === 'filter' ? 'filter' : 'path';
    const detail = `Invalid ${what} at position ${at + 1}: ${message}`;
    throw this.mode === 'filter' ? ScimError.invalidFilter(detail) : ScimError.invalidPath(detail);
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  skipSpace(): void {
    while (isSpace(this.text[this.pos])) this.pos++;
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** What stands at the current position, for error messages. */
  found(): string {
    if (this.atEnd()) return 'the end of the input';
    let end = this.pos + 1;
    if (!isDelimiter(this.text[this.pos])) {
      while (end < this.text.length && !isDelimiter(this.text[end])) end++;
    }
    return quote(this.text.slice(this.pos, end));
  }

  enter(at: number): void {
    this.depth++;
    if (this.depth > this.maxDepth) {
      this.fail(at, `nesting deeper than ${this.maxDepth} levels of parentheses, "not" and brackets`);
    }
  }

  leave(): void {
    this.depth--;
  }

  /** Reads a bare token (no delimiters); empty when a delimiter or the end comes first. */
  readToken(): string {
    const start = this.pos;
    while (!isDelimiter(this.text[this.pos])) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /**
   * If a keyword (`and`, `or`, `not`) stands at the current position, case-insensitively, and is
   * followed by whitespace, `(` or the end, consumes it and returns true.
   */
  keyword(word: string): boolean {
    const end = this.pos + word.length;
    if (this.text.slice(this.pos, end).toLowerCase() !== word) return false;
    const next = this.text[end];
    if (!(next === undefined || isSpace(next) || next === '(')) return false;
    this.pos = end;
    return true;
  }

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

  /** A JSON string (RFC 8259 §7), positioned at the opening quote. */
  parseString(): string {
    const open = this.pos;
    this.pos++;
    let out = '';
    let runStart = this.pos;
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail(open, "unterminated string: expected a closing '\"'");
      if (c === '"') {
        out += this.text.slice(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c < ' ') this.fail(this.pos, 'control characters must be escaped inside a string');
      if (c !== '\\') {
        this.pos++;
        continue;
      }
      out += this.text.slice(runStart, this.pos);
      const escAt = this.pos;
      const e = this.text[this.pos + 1];
      this.pos += 2;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = this.text.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(escAt, 'expected four hex digits after "\\u"');
          out += String.fromCharCode(Number.parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.fail(escAt, `invalid escape ${quote(`\\${e ?? ''}`)} in a string`);
      }
      runStart = this.pos;
    }
  }

  checkName(name: string, at: number, expected: string): void {
    const bad = badNameCharAt(name);
    if (bad === -1) return;
    if (name.length === 0) this.fail(at, `expected ${expected}, found ${this.found()}`);
    this.fail(at + bad, `invalid character ${quote(name[bad] ?? '')} in attribute name ${quote(name)}`);
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

/**
 * Parses a plain attribute path (`attributes`, `excludedAttributes`, `sortBy`, keys of a path-less
 * PATCH value): `[urn:]name[.sub]`. Throws 400 invalidPath.
 */
export function parseAttributePath(text: string): AttributePath {
  const input = checkInput(text, 'path', DEFAULT_PARSE_LIMITS.maxLength);
  return guarded('path', () => {
    const p = new Parser(input, 'path', DEFAULT_PARSE_LIMITS.maxDepth);
    p.skipSpace();
    const start = p.pos;
    const token = p.readToken();
    if (token === '') p.fail(start, `expected an attribute path, found ${p.found()}`);
    const path = p.attributePath(token, start);
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
    p.skipSpace();
    const start = p.pos;
    const token = p.readToken();
    if (token === '') p.fail(start, `expected an attribute path, found ${p.found()}`);
    const path = p.attributePath(token, start);
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

// ---------------------------------------------------------------------------------------------
// Printing (error details, logs). The inverse of the parser for every AST it produces.

export function formatAttributePath(path: AttributePath): string {
  const name = path.subAttribute === undefined ? path.attribute : `${path.attribute}.${path.subAttribute}`;
  return path.schema === undefined ? name : `${path.schema}:${name}`;
}

function formatValue(value: FilterValue): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

export function formatFilter(node: FilterNode): string {
  switch (node.type) {
    case 'compare':
      return `${formatAttributePath(node.path)} ${node.operator} ${formatValue(node.value)}`;
    case 'present':
      return `${formatAttributePath(node.path)} pr`;
    case 'and':
    case 'or':
      return `(${formatFilter(node.left)} ${node.type} ${formatFilter(node.right)})`;
    case 'not':
      return `not (${formatFilter(node.filter)})`;
    case 'valuePath':
      return `${formatAttributePath(node.path)}[${formatFilter(node.filter)}]`;
  }
}

export function formatPatchPath(path: PatchPath): string {
  let out = formatAttributePath(path.path);
  if (path.valueFilter !== undefined) out += `[${formatFilter(path.valueFilter)}]`;
  if (path.subAttribute !== undefined) out += `.${path.subAttribute}`;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Evaluation of a value filter against ONE value of a multi-valued attribute (PATCH,
// RFC 7644 §3.5.2). Searches are never evaluated in memory: they go to the directory.

function findDefinition(defs: readonly AttributeDefinition[], name: string): AttributeDefinition | undefined {
  const lower = name.toLowerCase();
  return defs.find((d) => d.name.toLowerCase() === lower);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function getMember(obj: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

/** The value at `path` inside one complex value; a simple value stands for its own `value`. */
function resolve(value: unknown, path: AttributePath): unknown {
  if (!isRecord(value)) {
    return path.attribute.toLowerCase() === 'value' && path.subAttribute === undefined ? value : undefined;
  }
  const first = getMember(value, path.attribute);
  if (path.subAttribute === undefined) return first;
  const sub = path.subAttribute;
  if (Array.isArray(first)) return first.map((v) => (isRecord(v) ? getMember(v, sub) : undefined));
  return isRecord(first) ? getMember(first, sub) : undefined;
}

function definitionFor(
  defs: readonly AttributeDefinition[],
  path: AttributePath,
): AttributeDefinition | undefined {
  const def = findDefinition(defs, path.attribute);
  if (path.subAttribute === undefined || def === undefined) return def;
  return findDefinition(def.subAttributes ?? [], path.subAttribute);
}

/** RFC 7643 §2.5: null and [] are unassigned; RFC 7644 §3.4.2.2 "pr": a non-empty value. */
function isPresent(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (Array.isArray(v)) return v.some(isPresent);
  if (isRecord(v)) return Object.values(v).some(isPresent);
  return true;
}

function compareOrder(a: number | string, b: number | string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareOne(
  actual: unknown,
  op: CompareOperator,
  literal: FilterValue,
  def: AttributeDefinition | undefined,
): boolean {
  if (actual === undefined || actual === null) {
    // An unassigned attribute equals only null, and is "not equal" to anything else.
    if (op === 'eq') return literal === null;
    if (op === 'ne') return literal !== null;
    return false;
  }
  if (literal === null) return op === 'ne';
  if (typeof actual === 'boolean') {
    if (typeof literal !== 'boolean') return op === 'ne';
    return op === 'eq' ? actual === literal : op === 'ne' ? actual !== literal : false;
  }
  if (typeof actual === 'number') {
    if (typeof literal !== 'number') return op === 'ne';
    return orderResult(op, compareOrder(actual, literal));
  }
  if (typeof actual !== 'string') return op === 'ne';
  // An unquoted numeric token (Entra) against a string attribute compares as its text.
  const lit = typeof literal === 'number' ? String(literal) : literal;
  if (typeof lit !== 'string') return op === 'ne';
  if (def?.type === 'dateTime') {
    const a = Date.parse(actual);
    const b = Date.parse(lit);
    if (!Number.isNaN(a) && !Number.isNaN(b) && op !== 'co' && op !== 'sw' && op !== 'ew') {
      return orderResult(op, compareOrder(a, b));
    }
  }
  // RFC 7644 §3.4.2.2: string comparisons honour the attribute's caseExact characteristic.
  const caseExact = def?.caseExact ?? false;
  const a = caseExact ? actual : actual.toLowerCase();
  const b = caseExact ? lit : lit.toLowerCase();
  switch (op) {
    case 'co':
      return a.includes(b);
    case 'sw':
      return a.startsWith(b);
    case 'ew':
      return a.endsWith(b);
    default:
      return orderResult(op, compareOrder(a, b));
  }
}

function orderResult(op: CompareOperator, order: number): boolean {
  switch (op) {
    case 'eq':
      return order === 0;
    case 'ne':
      return order !== 0;
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
    default:
      return false;
  }
}

function evaluate(node: FilterNode, value: unknown, defs: readonly AttributeDefinition[]): boolean {
  switch (node.type) {
    case 'and':
      return evaluate(node.left, value, defs) && evaluate(node.right, value, defs);
    case 'or':
      return evaluate(node.left, value, defs) || evaluate(node.right, value, defs);
    case 'not':
      return !evaluate(node.filter, value, defs);
    case 'present':
      return isPresent(resolve(value, node.path));
    case 'compare': {
      const actual = resolve(value, node.path);
      const def = definitionFor(defs, node.path);
      if (Array.isArray(actual)) {
        // A multi-valued operand matches when any of its values does (RFC 7644 §3.4.2.2).
        if (node.operator === 'ne') return actual.every((v) => compareOne(v, 'ne', node.value, def));
        return actual.some((v) => compareOne(v, node.operator, node.value, def));
      }
      return compareOne(actual, node.operator, node.value, def);
    }
    case 'valuePath': {
      const target = resolve(value, node.path);
      const def = definitionFor(defs, node.path);
      const items = Array.isArray(target) ? target : target === undefined ? [] : [target];
      return items.some((item) => evaluate(node.filter, item, def?.subAttributes ?? []));
    }
  }
}

/**
 * Whether one value of a multi-valued attribute satisfies a value filter, e.g. the element
 * `{type: "work", value: "a@x"}` against `type eq "work" and value co "@x"`. `subDefs` are the
 * attribute's sub-attribute definitions (for caseExact and dateTime); unknown names compare
 * case-insensitively as strings. A simple (non-object) value is addressed as `value`.
 */
export function matchesValue(
  filter: FilterNode,
  value: unknown,
  subDefs: readonly AttributeDefinition[] = [],
): boolean {
  return evaluate(filter, value, subDefs);
}

/**
 * The character level of SCIM filters and paths (RFC 7644 §3.4.2.2, §3.5.2): whitespace, bare
 * tokens, keywords, JSON strings, attribute names, and the position-carrying errors (400
 * invalidFilter / invalidPath). The grammar on top of it is in filter.ts.
 */
import { ScimError } from './errors.ts';

/** Longest excerpt of the input quoted back in an error detail. */
const EXCERPT = 40;

export type Mode = 'filter' | 'path';

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
export function isDelimiter(c: string | undefined): boolean {
  return c === undefined || isSpace(c) || c === '(' || c === ')' || c === '[' || c === ']' || c === '"';
}
export function quote(s: string): string {
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

/** A cursor over the input with the token readers the grammar uses; every reader consumes input or stops. */
export class Scanner {
  readonly text: string;
  readonly mode: Mode;
  readonly maxDepth: number;
  pos = 0;
  depth = 0;

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
}

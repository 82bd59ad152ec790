/**
 * A request body's JSON text (RFC 8259) read into a value, refusing what could not round-trip or
 * would cost a stack: bytes that are not UTF-8 (§8.1), escapes of lone surrogates (§8.2: not a
 * Unicode character; JavaScript would keep them, LDAP would store U+FFFD), and nesting deeper
 * than a bound, checked in one linear pass before JSON.parse builds anything (issue 15: 2,300
 * levels in 5 KB overflowed recursive walks further on). All are 400 invalidSyntax.
 */
import { ScimError } from './errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** UTF-8 bytes to text; invalid sequences are refused, never replaced by U+FFFD. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw ScimError.invalidSyntax(
      `request body is not valid UTF-8 at byte ${firstInvalidUtf8(bytes)} (RFC 8259 §8.1)`,
    );
  }
}

/** Where decoding first fails: the shortest prefix the decoder refuses, found by halving. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let good = 0;
  let bad = bytes.length;
  while (bad - good > 1) {
    const middle = (good + bad) >> 1;
    // A prefix cut inside a valid sequence also fails, so this finds the sequence's start or end.
    if (validPrefix(bytes, middle)) good = middle;
    else bad = middle;
  }
  return good;
}

function validPrefix(bytes: Uint8Array, length: number): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, length), { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** The code unit a `\uXXXX` escape at `at` (the backslash) names, or -1 when it is not one. */
function escapedUnit(text: string, at: number): number {
  if (text.charCodeAt(at) !== BACKSLASH || text[at + 1] !== 'u') return -1;
  const hex = text.slice(at + 2, at + 6);
  return /^[0-9a-fA-F]{4}$/.test(hex) ? Number.parseInt(hex, 16) : -1;
}

/**
 * Checks nesting depth and surrogate escapes in one pass (strings skipped by their quotes).
 * Malformed JSON is left for JSON.parse to report.
 */
export function checkJsonText(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === QUOTE) inString = false;
      else if (c === BACKSLASH) i = afterEscape(text, i);
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      depth += 1;
      if (depth > maxDepth) {
        throw ScimError.invalidSyntax(
          `request body nests arrays and objects deeper than ${maxDepth} levels (at character ${i})`,
        );
      }
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth -= 1;
  }
}

/** The index of an escape's last character; a surrogate escape must be a high-low pair. */
function afterEscape(text: string, at: number): number {
  const unit = escapedUnit(text, at);
  if (unit === -1) return at + 1;
  if (unit >= 0xdc00 && unit <= 0xdfff) throw loneSurrogate(text, at);
  if (unit >= 0xd800 && unit <= 0xdbff) {
    const low = escapedUnit(text, at + 6);
    if (low < 0xdc00 || low > 0xdfff) throw loneSurrogate(text, at);
    return at + 11;
  }
  return at + 5;
}

function loneSurrogate(text: string, at: number): ScimError {
  return ScimError.invalidSyntax(
    `request body holds ${text.slice(at, at + 6)} at character ${at}, a lone surrogate and no Unicode character (RFC 8259 §8.2)`,
  );
}

/** A request body as a JSON value: UTF-8, bounded nesting, no lone surrogates, then JSON.parse. */
export function parseJsonBody(bytes: Uint8Array, maxDepth: number): unknown {
  const text = decodeUtf8(bytes);
  if (text.trim() === '') return undefined;
  checkJsonText(text, maxDepth);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw ScimError.invalidSyntax(`request body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Distinguished names (RFC 4514): parsing, escaping, equality and the tree relations the bridge
 * needs (parent, under a base, first RDN). One module, so that the rename decision and every
 * equality check read a DN the same way (docs/architecture.md §Identity).
 *
 * Our own parser, not ldapts': ldapts 9 only builds DNs. Its DN and RDN classes are made from
 * type/value pairs and print them escaped; they cannot parse a string, and their equals() compares
 * types and values exactly as given (case-sensitive, order of RDNs only).
 *
 * Equality (sameDn, isUnder, normalizeDn) is caseIgnoreMatch-style, the matching rule of every
 * mapped naming attribute (uid, cn, ou, dc, sAMAccountName): attribute types compare
 * case-insensitively; values after unescaping, without leading and trailing spaces, inner runs of
 * spaces as one (RFC 4518 §2.6.1) and case-folded; the values of a multi-valued RDN in any order
 * (an RDN is a set, RFC 4512 §2.3.1). Types are not resolved through a schema (`cn` and `2.5.4.3`
 * differ); a `#` BER value (RFC 4514 §2.4) compares as its hex text, case-insensitively.
 *
 * Malformed DNs: parseDn throws DnSyntaxError; nothing else here throws. The other functions
 * compare a malformed DN by its loose text (lower-cased, spaces around `,` `=` `+` dropped), as the
 * helpers before this module did, and split it at its first unescaped comma.
 */

export class DnSyntaxError extends Error {
  override readonly name = 'DnSyntaxError';
  /** 0-based offset in the DN text where parsing stopped. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

/** One attributeType=value of an RDN. `value` is unescaped; a BER value keeps its `#hex` text. */
export interface AttributeTypeAndValue {
  readonly type: string;
  readonly value: string;
  /** The value was written as `#` + hex of its BER encoding (RFC 4514 §2.4), kept undecoded. */
  readonly ber?: true;
}

/** A relative distinguished name: one or more attributeType=value, joined by `+` in text. */
export type Rdn = readonly AttributeTypeAndValue[];

/** Characters `\` may escape as themselves (RFC 4514 §3 `special` and ESC). */
const ESCAPABLE = ' "#+,;<=>\\';
/** Characters a value may hold unescaped: all but `,` `+` `\` and those outside RFC 4514 §3 SUTF1. */
const PLAIN_RUN = /[^,+\\";<>\u0000]+/y;
const HEX_PAIR = /^[0-9a-fA-F]{2}$/;
const HEX_STRING = /^(?:[0-9a-fA-F]{2})+/;
/** RFC 4512 §1.4 descr and numericoid. */
const ATTRIBUTE_TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+)$/;
const TYPE_AND_EQUALS = / *([A-Za-z][A-Za-z0-9-]*|(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+) *=/y;
/** What escapeDnValue changes: a special character anywhere, a leading `#` or space, a trailing space. */
const NEEDS_ESCAPING = /["+,;<>\\=\u0000]|^[# ]| $/;
/** Whitespace that foldValue changes: a run of two or more, or any but a plain space. */
const SPACE_TO_FOLD = /\s{2,}|[^\S ]/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

interface Cursor {
  readonly text: string;
  pos: number;
}

/**
 * Parses a DN string into its RDNs, leftmost (the entry's own) first. Accepts RFC 4514 §3 and the
 * spaces around `,` `+` `=` that older servers write (RFC 2253 §4). Throws DnSyntaxError.
 */
export function parseDn(dn: string): Rdn[] {
  const rdns: Rdn[] = [];
  // The empty DN names the root (RFC 4514 §2.1).
  if (dn.trim() === '') return rdns;
  const cursor: Cursor = { text: dn, pos: 0 };
  let rdn: AttributeTypeAndValue[] = [];
  for (;;) {
    rdn.push(readAttributeTypeAndValue(cursor));
    const separator = dn[cursor.pos];
    if (separator === undefined) break;
    cursor.pos++;
    if (separator === ',') {
      rdns.push(rdn);
      rdn = [];
    }
  }
  rdns.push(rdn);
  return rdns;
}

/** parseDn, with undefined for a malformed DN. */
export function tryParseDn(dn: string): Rdn[] | undefined {
  try {
    return parseDn(dn);
  } catch (error) {
    if (error instanceof DnSyntaxError) return undefined;
    throw error;
  }
}

function fail(cursor: Cursor, what: string): never {
  throw new DnSyntaxError(
    `${what} at character ${cursor.pos + 1} of the DN ${JSON.stringify(cursor.text)}`,
    cursor.pos,
  );
}

function skipSpaces(cursor: Cursor): void {
  while (cursor.text[cursor.pos] === ' ') cursor.pos++;
}

/** Reads `type=value`, leaving the cursor on the `,` or `+` after it, or at the end. */
function readAttributeTypeAndValue(cursor: Cursor): AttributeTypeAndValue {
  const type = readAttributeType(cursor);
  skipSpaces(cursor);
  const { text } = cursor;
  if (text[cursor.pos] === '#') return { type, value: readBerValue(cursor), ber: true };
  return { type, value: readStringValue(cursor) };
}

/** Reads `type =`, leaving the cursor after the `=`. */
function readAttributeType(cursor: Cursor): string {
  const { text } = cursor;
  // The usual case in one step; anything else is read character by character, to say what is wrong.
  TYPE_AND_EQUALS.lastIndex = cursor.pos;
  const match = TYPE_AND_EQUALS.exec(text);
  if (match) {
    cursor.pos = TYPE_AND_EQUALS.lastIndex;
    return match[1]!;
  }
  const start = cursor.pos;
  while (cursor.pos < text.length && !'=,+'.includes(text[cursor.pos]!)) cursor.pos++;
  if (text[cursor.pos] !== '=') fail(cursor, 'expected "=" after an attribute type');
  const type = text.slice(start, cursor.pos).trim();
  if (!ATTRIBUTE_TYPE.test(type)) fail({ text, pos: start }, 'expected an attribute type');
  cursor.pos++;
  return type;
}

/** `#` followed by hex pairs (RFC 4514 §2.4 hexstring), returned as written. */
function readBerValue(cursor: Cursor): string {
  const start = cursor.pos;
  const hex = HEX_STRING.exec(cursor.text.slice(start + 1))?.[0];
  if (hex === undefined) fail({ text: cursor.text, pos: start + 1 }, 'expected hex pairs after "#"');
  cursor.pos = start + 1 + hex.length;
  skipSpaces(cursor);
  const next = cursor.text[cursor.pos];
  if (next !== undefined && next !== ',' && next !== '+')
    fail(cursor, 'expected "," or "+" after a "#" value');
  return `#${hex}`;
}

/**
 * An RFC 4514 §3 string value, unescaped: `\` + special character, `\` + hex pair (consecutive
 * pairs are the UTF-8 octets of one text). Unescaped trailing spaces are not part of the value.
 */
function readStringValue(cursor: Cursor): string {
  const { text } = cursor;
  let value = '';
  // value.length up to its last character that is not an unescaped space.
  let significant = 0;
  let octets: number[] = [];
  const flushOctets = () => {
    if (octets.length === 0) return;
    value += decodeOctets(cursor, octets);
    significant = value.length;
    octets = [];
  };
  while (cursor.pos < text.length) {
    PLAIN_RUN.lastIndex = cursor.pos;
    const run = PLAIN_RUN.exec(text)?.[0];
    if (run !== undefined) {
      flushOctets();
      value += run;
      let spaces = 0;
      while (spaces < run.length && run[run.length - 1 - spaces] === ' ') spaces++;
      if (spaces < run.length) significant = value.length - spaces;
      cursor.pos += run.length;
      continue;
    }
    const char = text[cursor.pos]!;
    if (char === ',' || char === '+') break;
    if (char !== '\\') fail(cursor, `unescaped ${JSON.stringify(char)} in a value`);
    const pair = text.slice(cursor.pos + 1, cursor.pos + 3);
    if (HEX_PAIR.test(pair)) {
      octets.push(Number.parseInt(pair, 16));
      cursor.pos += 3;
      continue;
    }
    const escaped = text[cursor.pos + 1];
    if (escaped === undefined || !ESCAPABLE.includes(escaped))
      fail(cursor, 'expected a special character or a hex pair after "\\"');
    flushOctets();
    value += escaped;
    significant = value.length;
    cursor.pos += 2;
  }
  flushOctets();
  return value.slice(0, significant);
}

function decodeOctets(cursor: Cursor, octets: number[]): string {
  try {
    return UTF8.decode(Uint8Array.from(octets));
  } catch {
    return fail(cursor, 'hex pairs that are not UTF-8');
  }
}

/** Escapes a value for use in a DN attribute value (RFC 4514 §2.4). */
export function escapeDnValue(value: string): string {
  if (!NEEDS_ESCAPING.test(value)) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    const first = i === 0;
    const last = i === value.length - 1;
    if ('"+,;<>\\='.includes(c) || (first && (c === '#' || c === ' ')) || (last && c === ' '))
      out += `\\${c}`;
    else if (c === '\u0000') out += '\\00';
    else out += c;
  }
  return out;
}

/**
 * Splits "rdn,parent" at the first comma that separates RDNs (RFC 4514 §2): one not escaped by a
 * backslash (`\\` is an escaped backslash, `\,` an escaped comma, `\2C` a hex pair). Both parts
 * keep their text as written, trimmed; the parent of a single RDN is ''. Never fails.
 */
export function splitFirstRdn(dn: string): [string, string] {
  for (let index = 0; index < dn.length; index++) {
    const char = dn[index];
    if (char === '\\') index++;
    else if (char === ',') return [dn.slice(0, index).trim(), dn.slice(index + 1).trim()];
  }
  return [dn.trim(), ''];
}

/** The parent of a DN as written (everything after the first RDN); '' for a single RDN. */
export function parentDn(dn: string): string {
  return splitFirstRdn(dn)[1];
}

/** The entry's own RDN (leftmost); undefined for the empty or a malformed DN. */
export function firstRdn(dn: string): Rdn | undefined {
  return tryParseDn(dn)?.[0];
}

/** A canonical text of a DN for comparison (see the header: caseIgnoreMatch-style). */
export function normalizeDn(dn: string): string {
  return normalizedRdns(dn)?.join(',') ?? looseDn(dn);
}

/** DN equality (see the header: caseIgnoreMatch-style). */
export function sameDn(a: string, b: string): boolean {
  return a === b || normalizeDn(a) === normalizeDn(b);
}

/** Whether dn is base or lies in its subtree. Everything is under the empty DN (the root). */
export function isUnder(dn: string, base: string): boolean {
  const rdns = normalizedRdns(dn);
  const baseRdns = normalizedRdns(base);
  if (rdns === undefined || baseRdns === undefined) {
    const looseText = looseDn(dn);
    const looseBase = looseDn(base);
    return looseText === looseBase || looseText.endsWith(`,${looseBase}`);
  }
  const offset = rdns.length - baseRdns.length;
  return offset >= 0 && baseRdns.every((rdn, index) => rdn === rdns[offset + index]);
}

/**
 * Whether the new DN's own RDN holds other values than the current one, compared exactly (case
 * and inner spaces count): a change only in case is a rename too, which sameDn cannot see.
 * Types compare case-insensitively, escapes are undone, a multi-valued RDN is a set.
 */
export function rdnValueChanged(currentDn: string, newDn: string): boolean {
  const current = firstRdn(currentDn);
  const next = firstRdn(newDn);
  if (current === undefined || next === undefined)
    return splitFirstRdn(currentDn)[0] !== splitFirstRdn(newDn)[0];
  return rdnText(current, (value) => value) !== rdnText(next, (value) => value);
}

/** Folds a value as caseIgnoreMatch does: trimmed, inner spaces as one, lower case. */
function foldValue(value: string): string {
  const trimmed = value.trim();
  return (SPACE_TO_FOLD.test(trimmed) ? trimmed.replace(/\s+/g, ' ') : trimmed).toLowerCase();
}

function normalizedRdns(dn: string): string[] | undefined {
  return tryParseDn(dn)?.map((rdn) => rdnText(rdn, foldValue));
}

/** The RDN as text with its values passed through `fold`, its pairs sorted (an RDN is a set). */
function rdnText(rdn: Rdn, fold: (value: string) => string): string {
  const pairText = ({ type, value, ber }: AttributeTypeAndValue) =>
    `${type.toLowerCase()}=${ber ? value.toLowerCase() : escapeDnValue(fold(value))}`;
  return rdn.length === 1 ? pairText(rdn[0]!) : rdn.map(pairText).sort().join('+');
}

/** How the helpers before this module compared DNs; kept for DNs that do not parse. */
function looseDn(dn: string): string {
  return dn
    .trim()
    .replace(/\s*([,=+])\s*/g, '$1')
    .toLowerCase();
}

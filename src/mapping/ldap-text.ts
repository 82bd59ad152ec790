/**
 * RFC 4515 filter text an admin writes in mapping files (the resource type's scope filter), and
 * DirFilters printed back as text for previews. Client input never goes through the filter parser
 * here: client values only ever become DirFilter values, which the LDAP adapter escapes.
 * DNs (RFC 4514) are in lib/dn.ts.
 */
import type { DirFilter } from '../ports/directory.ts';

export class LdapTextError extends Error {
  override readonly name = 'LdapTextError';
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

/** Parses an RFC 4515 filter string into a DirFilter. Throws LdapTextError with the offset. */
export function parseLdapFilter(text: string): DirFilter {
  const cursor: Cursor = { text, pos: 0 };
  const filter = parseFilter(cursor);
  if (cursor.pos !== text.length) fail(cursor, 'unexpected text after the filter');
  return filter;
}

interface Cursor {
  readonly text: string;
  pos: number;
}

function fail(cursor: Cursor, what: string): never {
  throw new LdapTextError(
    `${what} at character ${cursor.pos + 1} of ${JSON.stringify(cursor.text)}`,
    cursor.pos,
  );
}

function expect(cursor: Cursor, char: string): void {
  if (cursor.text[cursor.pos] !== char) fail(cursor, `expected "${char}"`);
  cursor.pos++;
}

/** `(` filter `)`: a set, a negation or an item (RFC 4515 §3). */
function parseFilter(cursor: Cursor): DirFilter {
  expect(cursor, '(');
  const char = cursor.text[cursor.pos];
  let result: DirFilter;
  if (char === '&' || char === '|') {
    cursor.pos++;
    result = parseSet(cursor, char);
  } else if (char === '!') {
    cursor.pos++;
    result = { type: 'not', filter: parseFilter(cursor) };
  } else result = parseItem(cursor);
  expect(cursor, ')');
  return result;
}

function parseSet(cursor: Cursor, operator: '&' | '|'): DirFilter {
  const filters: DirFilter[] = [];
  while (cursor.text[cursor.pos] === '(') filters.push(parseFilter(cursor));
  if (filters.length > 0) return operator === '&' ? { type: 'and', filters } : { type: 'or', filters };
  // RFC 4526 absolute true "(&)" and false "(|)".
  if (cursor.text[cursor.pos] !== ')') fail(cursor, 'expected at least one filter');
  return operator === '&' ? { type: 'true' } : { type: 'false' };
}

/** Extensible match with a rule (RFC 4515 §3 `attr:rule:=value`), e.g. AD's bitwise AND. */
const EXTENSIBLE = /^([A-Za-z][A-Za-z0-9-]*):([0-9]+(?:\.[0-9]+)*|[A-Za-z][A-Za-z0-9-]*):$/;
const ATTRIBUTE = /^[A-Za-z][A-Za-z0-9-]*(;[A-Za-z0-9-]+)*$|^[0-9]+(\.[0-9]+)*$/;

/** attribute, operator and value, up to (not including) the closing `)`. */
function parseItem(cursor: Cursor): DirFilter {
  const { text } = cursor;
  const start = cursor.pos;
  while (cursor.pos < text.length && !'=~<>()'.includes(text[cursor.pos]!)) cursor.pos++;
  const attribute = text.slice(start, cursor.pos);
  const extensible = EXTENSIBLE.exec(attribute);
  if (extensible) {
    if (text[cursor.pos] !== '=') fail(cursor, 'expected ":=" in an extensible match');
    cursor.pos++;
    const value = decodeValue(cursor, readValue(cursor));
    return { type: 'extensible', attribute: extensible[1]!, rule: extensible[2]!, value };
  }
  if (!ATTRIBUTE.test(attribute)) fail(cursor, 'expected an attribute name');
  const operator = text.slice(cursor.pos, cursor.pos + 2);
  if (operator === '>=' || operator === '<=' || operator === '~=') {
    cursor.pos += 2;
    const value = decodeValue(cursor, readValue(cursor));
    if (operator === '>=') return { type: 'greaterOrEqual', attribute, value };
    if (operator === '<=') return { type: 'lessOrEqual', attribute, value };
    return { type: 'equal', attribute, value };
  }
  if (text[cursor.pos] !== '=') fail(cursor, 'expected "=", ">=", "<=" or "~="');
  cursor.pos++;
  const raw = readValue(cursor);
  if (raw === '*') return { type: 'present', attribute };
  if (raw.includes('*')) return substringFilter(cursor, attribute, raw);
  return { type: 'equal', attribute, value: decodeValue(cursor, raw) };
}

/** The raw value text up to the closing `)`; an unescaped `(` is an error. */
function readValue(cursor: Cursor): string {
  const { text } = cursor;
  const start = cursor.pos;
  while (cursor.pos < text.length && text[cursor.pos] !== ')') {
    if (text[cursor.pos] === '(') fail(cursor, 'unescaped "(" in value');
    cursor.pos++;
  }
  return text.slice(start, cursor.pos);
}

function substringFilter(cursor: Cursor, attribute: string, raw: string): DirFilter {
  const parts = raw.split('*');
  const initial = parts[0] ? decodeValue(cursor, parts[0]) : undefined;
  const last = parts[parts.length - 1];
  const final = last ? decodeValue(cursor, last) : undefined;
  const any = parts
    .slice(1, -1)
    .filter((part) => part !== '')
    .map((part) => decodeValue(cursor, part));
  return {
    type: 'substring',
    attribute,
    any,
    ...(initial ? { initial } : {}),
    ...(final ? { final } : {}),
  };
}

/** RFC 4515 §3: \XX hex escapes of octets; decoded as UTF-8. */
function decodeValue(cursor: Cursor, raw: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i]!;
    if (char === '\\') {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) fail(cursor, 'invalid escape');
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(char, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Prints a DirFilter as RFC 4515 text (for previews and logs; the LDAP adapter never sends text).
 * Values are escaped per RFC 4515 §3: `*`, `(`, `)`, `\` and NUL as \XX; binary values
 * (objectGUID) byte by byte. Absolute true/false print as "(&)" / "(|)" (RFC 4526).
 */
export function formatLdapFilter(filter: DirFilter): string {
  switch (filter.type) {
    case 'and':
      return `(&${filter.filters.map(formatLdapFilter).join('')})`;
    case 'or':
      return `(|${filter.filters.map(formatLdapFilter).join('')})`;
    case 'not':
      return `(!${formatLdapFilter(filter.filter)})`;
    case 'equal':
      return `(${filter.attribute}=${escapeFilterValue(filter.value)})`;
    case 'substring': {
      const parts = [filter.initial ?? '', ...filter.any, filter.final ?? ''];
      return `(${filter.attribute}=${parts.map((p) => escapeFilterValue(p)).join('*')})`;
    }
    case 'greaterOrEqual':
      return `(${filter.attribute}>=${escapeFilterValue(filter.value)})`;
    case 'lessOrEqual':
      return `(${filter.attribute}<=${escapeFilterValue(filter.value)})`;
    case 'present':
      return `(${filter.attribute}=*)`;
    case 'extensible':
      return `(${filter.attribute}:${filter.rule}:=${escapeFilterValue(filter.value)})`;
    case 'true':
      return '(&)';
    case 'false':
      return '(|)';
  }
}

/** RFC 4515 §3 value escaping; a Buffer is escaped entirely (it is binary, not text). */
export function escapeFilterValue(value: string | Buffer): string {
  if (typeof value !== 'string')
    return [...value].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
  let out = '';
  for (const c of value) {
    if (c === '*' || c === '(' || c === ')' || c === '\\' || c === '\u0000')
      out += `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return out;
}

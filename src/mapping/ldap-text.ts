/**
 * Text forms an admin writes in mapping files: RFC 4515 filters (the resource type's scope filter)
 * and RFC 4514 DN values (DN templates). Client input never goes through the filter parser here:
 * client values only ever become DirFilter values, which the LDAP adapter escapes.
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
  let pos = 0;
  const fail = (what: string): never => {
    throw new LdapTextError(`${what} at character ${pos + 1} of ${JSON.stringify(text)}`, pos);
  };
  const expect = (ch: string): void => {
    if (text[pos] !== ch) fail(`expected "${ch}"`);
    pos++;
  };
  const decodeValue = (raw: string): string => {
    // RFC 4515 §3: \XX hex escapes of octets; decode as UTF-8.
    const bytes: number[] = [];
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i]!;
      if (c === '\\') {
        const hex = raw.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) fail('invalid escape');
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
      } else bytes.push(...Buffer.from(c, 'utf8'));
    }
    return Buffer.from(bytes).toString('utf8');
  };
  const parseOne = (): DirFilter => {
    expect('(');
    const c = text[pos];
    let result: DirFilter;
    if (c === '&' || c === '|') {
      pos++;
      const filters: DirFilter[] = [];
      while (text[pos] === '(') filters.push(parseOne());
      if (filters.length === 0) fail('expected at least one filter');
      result = c === '&' ? { type: 'and', filters } : { type: 'or', filters };
    } else if (c === '!') {
      pos++;
      result = { type: 'not', filter: parseOne() };
    } else {
      const start = pos;
      while (pos < text.length && !'=~<>()'.includes(text[pos]!)) pos++;
      const attribute = text.slice(start, pos);
      if (!/^[A-Za-z][A-Za-z0-9-]*(;[A-Za-z0-9-]+)*$|^[0-9]+(\.[0-9]+)*$/.test(attribute))
        fail('expected an attribute name');
      const op = text.slice(pos, pos + 2);
      let kind: '=' | '>=' | '<=' | '~=';
      if (op === '>=' || op === '<=' || op === '~=') {
        kind = op;
        pos += 2;
      } else if (text[pos] === '=') {
        kind = '=';
        pos++;
      } else return fail('expected "=", ">=", "<=" or "~="');
      const valueStart = pos;
      while (pos < text.length && text[pos] !== ')') {
        if (text[pos] === '(') fail('unescaped "(" in value');
        pos++;
      }
      const raw = text.slice(valueStart, pos);
      if (kind === '>=') result = { type: 'greaterOrEqual', attribute, value: decodeValue(raw) };
      else if (kind === '<=') result = { type: 'lessOrEqual', attribute, value: decodeValue(raw) };
      else if (kind === '~=') result = { type: 'equal', attribute, value: decodeValue(raw) };
      else if (raw === '*') result = { type: 'present', attribute };
      else if (raw.includes('*')) {
        const parts = raw.split('*');
        const initial = parts[0] ? decodeValue(parts[0]) : undefined;
        const last = parts[parts.length - 1];
        const final = last ? decodeValue(last) : undefined;
        const any = parts
          .slice(1, -1)
          .filter((p) => p !== '')
          .map(decodeValue);
        result = {
          type: 'substring',
          attribute,
          any,
          ...(initial ? { initial } : {}),
          ...(final ? { final } : {}),
        };
      } else result = { type: 'equal', attribute, value: decodeValue(raw) };
    }
    expect(')');
    return result;
  };
  const filter = parseOne();
  if (pos !== text.length) fail('unexpected text after the filter');
  return filter;
}

/** Escapes a value for use in a DN attribute value (RFC 4514 §2.4). */
export function escapeDnValue(value: string): string {
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

/** Normalises a DN for comparison: lower-cased, no spaces around separators. Good enough for DNs we wrote. */
export function normalizeDn(dn: string): string {
  return dn
    .split(/(?<!\\),/)
    .map((rdn) =>
      rdn
        .split(/(?<!\\)=/)
        .map((p) => p.trim())
        .join('='),
    )
    .join(',')
    .toLowerCase();
}

/** The parent of a DN (everything after the first unescaped comma). */
export function parentDn(dn: string): string {
  const match = /(?<!\\),/.exec(dn);
  return match ? dn.slice(match.index + 1).trim() : '';
}

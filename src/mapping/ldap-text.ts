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
      if (filters.length === 0) {
        // RFC 4526 absolute true "(&)" and false "(|)".
        if (text[pos] !== ')') fail('expected at least one filter');
        result = c === '&' ? { type: 'true' } : { type: 'false' };
      } else result = c === '&' ? { type: 'and', filters } : { type: 'or', filters };
    } else if (c === '!') {
      pos++;
      result = { type: 'not', filter: parseOne() };
    } else {
      const start = pos;
      while (pos < text.length && !'=~<>()'.includes(text[pos]!)) pos++;
      const attribute = text.slice(start, pos);
      // Extensible match with a rule (RFC 4515 §3 `attr:rule:=value`), e.g. AD's bitwise AND.
      const extensible = /^([A-Za-z][A-Za-z0-9-]*):([0-9]+(?:\.[0-9]+)*|[A-Za-z][A-Za-z0-9-]*):$/.exec(
        attribute,
      );
      if (extensible) {
        if (text[pos] !== '=') fail('expected ":=" in an extensible match');
        pos++;
        const valueStart = pos;
        while (pos < text.length && text[pos] !== ')') {
          if (text[pos] === '(') fail('unescaped "(" in value');
          pos++;
        }
        result = {
          type: 'extensible',
          attribute: extensible[1]!,
          rule: extensible[2]!,
          value: decodeValue(text.slice(valueStart, pos)),
        };
        expect(')');
        return result;
      }
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

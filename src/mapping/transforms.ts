/**
 * Named transforms between a SCIM value and the LDAP string(s) that store it. Mapping files name
 * them; nothing is evaluated. Each direction throws TransformError for values it cannot convert,
 * which the services report as 400 invalidValue naming the attribute.
 */
import type { DirFilter } from '../ports/directory.ts';

export class TransformError extends Error {
  override readonly name = 'TransformError';
}

export interface Transform {
  name: string;
  /** The SCIM type the transform produces on read, used to check the mapping. */
  scimType: 'string' | 'boolean' | 'integer' | 'dateTime' | 'reference';
  toLdap(value: unknown): string;
  fromLdap(value: string): unknown;
  /**
   * For values that share an LDAP attribute with other data (AD userAccountControl holds many
   * flags): the LDAP value written when the entry's current value is known. Without it (or with
   * `current` undefined, i.e. a new entry) `toLdap` applies.
   */
  toLdapWithCurrent?(value: unknown, current: string | undefined): string;
  /** The directory returns this attribute as bytes (objectGUID): request it as binary and read with fromLdapBytes. */
  binary?: boolean;
  fromLdapBytes?(value: Buffer): unknown;
  toLdapBytes?(value: unknown): Buffer;
  /**
   * A SCIM comparison (`eq`/`ne`) as a directory filter, for transforms whose LDAP value is not
   * compared by equality (a bit inside userAccountControl). Throws TransformError when refused.
   */
  compareFilter?(attribute: string, operator: string, value: unknown): DirFilter;
  /**
   * For transforms that keep a whole SCIM list in ONE LDAP value (`split`): every SCIM value of the
   * rule joined into that value, and one LDAP value split back into SCIM values. `toLdap` and
   * `fromLdap` still convert a single element. Such a transform also compares with every operator
   * through `compareFilter` (substring filters included).
   */
  joinValues?(values: unknown[]): string;
  splitValue?(value: string): unknown[];
}

const stringTransform: Transform = {
  name: 'string',
  scimType: 'string',
  toLdap(value) {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw new TransformError(`expected a string, got ${describe(value)}`);
  },
  fromLdap: (value) => value,
};

/** LDAP Boolean syntax is "TRUE" / "FALSE" (RFC 4517 §3.3.3). Entra sends "True"/"False" strings. */
const booleanTransform: Transform = {
  name: 'boolean',
  scimType: 'boolean',
  toLdap(value) {
    if (value === true || (typeof value === 'string' && value.toLowerCase() === 'true')) return 'TRUE';
    if (value === false || (typeof value === 'string' && value.toLowerCase() === 'false')) return 'FALSE';
    throw new TransformError(`expected true or false, got ${describe(value)}`);
  },
  fromLdap(value) {
    const upper = value.toUpperCase();
    if (upper === 'TRUE') return true;
    if (upper === 'FALSE') return false;
    throw new TransformError(`directory value ${JSON.stringify(value)} is not an LDAP Boolean`);
  },
};

const integerTransform: Transform = {
  name: 'integer',
  scimType: 'integer',
  toLdap(value) {
    if (typeof value === 'number' && Number.isInteger(value)) return String(value);
    if (typeof value === 'string' && /^-?[0-9]+$/.test(value)) return String(Number.parseInt(value, 10));
    throw new TransformError(`expected an integer, got ${describe(value)}`);
  },
  fromLdap(value) {
    if (!/^-?[0-9]+$/.test(value))
      throw new TransformError(`directory value ${JSON.stringify(value)} is not an integer`);
    return Number.parseInt(value, 10);
  },
};

/** xsd:dateTime (RFC 7643 §2.3.5) <-> GeneralizedTime (RFC 4517 §3.3.13), always written in UTC. */
const dateTimeTransform: Transform = {
  name: 'dateTime',
  scimType: 'dateTime',
  toLdap(value) {
    if (typeof value !== 'string')
      throw new TransformError(`expected a dateTime string, got ${describe(value)}`);
    const date = parseXsdDateTime(value);
    if (!date)
      throw new TransformError(
        `${JSON.stringify(value)} is not an xsd:dateTime such as 2024-05-01T12:00:00Z`,
      );
    return toGeneralizedTime(date);
  },
  fromLdap(value) {
    const date = parseGeneralizedTime(value);
    if (!date) throw new TransformError(`directory value ${JSON.stringify(value)} is not a GeneralizedTime`);
    return date.toISOString().replace('.000Z', 'Z');
  },
};

const lowercaseTransform: Transform = {
  name: 'lowercase',
  scimType: 'string',
  toLdap: (value) => stringTransform.toLdap(value).toLowerCase(),
  fromLdap: (value) => value,
};

/** The negation of `boolean`: 389-DS/FreeIPA `nsAccountLock: TRUE` means SCIM `active: false`. */
const invertedBooleanTransform: Transform = {
  name: 'invertedBoolean',
  scimType: 'boolean',
  toLdap: (value) => (parseScimBoolean(value) ? 'FALSE' : 'TRUE'),
  fromLdap: (value) => !(booleanTransform.fromLdap(value) as boolean),
};

/** AD userAccountControl flags (MS-ADTS §2.2.16). */
const ACCOUNTDISABLE = 0x2;
const NORMAL_ACCOUNT = 0x200;
/** AD's LDAP_MATCHING_RULE_BIT_AND (MS-ADTS §3.1.1.3.4.4.1). */
export const AD_BIT_AND_RULE = '1.2.840.113556.1.4.803';

function parseScimBoolean(value: unknown): boolean {
  if (value === true || (typeof value === 'string' && value.toLowerCase() === 'true')) return true;
  if (value === false || (typeof value === 'string' && value.toLowerCase() === 'false')) return false;
  throw new TransformError(`expected true or false, got ${describe(value)}`);
}

/** userAccountControl is a 32-bit flag set; AD returns it as unsigned decimal, some tools as signed. */
function parseFlags(value: string): number {
  if (!/^-?[0-9]{1,10}$/.test(value))
    throw new TransformError(`directory value ${JSON.stringify(value)} is not a userAccountControl integer`);
  const n = Number.parseInt(value, 10);
  if (n < -0x80000000 || n > 0xffffffff)
    throw new TransformError(`directory value ${JSON.stringify(value)} does not fit in 32 bits`);
  return n;
}

/**
 * SCIM `active` <-> the ACCOUNTDISABLE bit of AD's userAccountControl: active = !(uac & 2).
 * Writing keeps every other bit of the current value; a new entry gets NORMAL_ACCOUNT (512) or
 * NORMAL_ACCOUNT|ACCOUNTDISABLE (514).
 */
const adAccountDisabledTransform: Transform = {
  name: 'adAccountDisabled',
  scimType: 'boolean',
  toLdap(value) {
    return String(parseScimBoolean(value) ? NORMAL_ACCOUNT : NORMAL_ACCOUNT | ACCOUNTDISABLE);
  },
  toLdapWithCurrent(value, current) {
    if (current === undefined) return this.toLdap(value);
    const active = parseScimBoolean(value);
    const flags = parseFlags(current);
    const next = active ? flags & ~ACCOUNTDISABLE : flags | ACCOUNTDISABLE;
    // Keep the representation the directory used (unsigned unless it gave a negative number).
    return String(flags < 0 ? next | 0 : next >>> 0);
  },
  fromLdap(value) {
    return (parseFlags(value) & ACCOUNTDISABLE) === 0;
  },
  compareFilter(attribute, operator, value) {
    if (operator !== 'eq' && operator !== 'ne')
      throw new TransformError(`only eq and ne can compare ${attribute}, got "${operator}"`);
    const disabled: DirFilter = {
      type: 'extensible',
      attribute,
      rule: AD_BIT_AND_RULE,
      value: String(ACCOUNTDISABLE),
    };
    const wantActive = parseScimBoolean(value) === (operator === 'eq');
    return wantActive ? { type: 'not', filter: disabled } : disabled;
  },
};

/** objectGUID bytes -> canonical GUID (first three groups little-endian, MS-DTYP §2.3.4). */
export function guidToString(bytes: Buffer): string {
  const hex = (from: number, to: number, reverse: boolean): string => {
    const part = [...bytes.subarray(from, to)];
    return (reverse ? part.reverse() : part).map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

/** Canonical GUID text -> the 16 bytes AD stores; undefined when the text is not a GUID. */
export function guidToBytes(guid: string): Buffer | undefined {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(guid);
  if (!m) return undefined;
  const le = (hex: string): number[] => [...Buffer.from(hex, 'hex')].reverse();
  return Buffer.from([...le(m[1]!), ...le(m[2]!), ...le(m[3]!), ...Buffer.from(m[4]! + m[5]!, 'hex')]);
}

const GUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Binary GUID (objectGUID, 16 bytes) <-> canonical lower-case string. `toLdapBytes` is the binary
 * reverse; `toLdap`/`fromLdap` handle directories that return GUIDs as text (validated, lower-cased).
 */
const guidTransform: Transform = {
  name: 'guid',
  scimType: 'string',
  binary: true,
  toLdap(value) {
    if (typeof value !== 'string' || !GUID_TEXT.test(value))
      throw new TransformError(
        `expected a GUID such as 00112233-4455-6677-8899-aabbccddeeff, got ${describe(value)}`,
      );
    return value.toLowerCase();
  },
  toLdapBytes(value) {
    const bytes = typeof value === 'string' ? guidToBytes(value) : undefined;
    if (!bytes)
      throw new TransformError(
        `expected a GUID such as 00112233-4455-6677-8899-aabbccddeeff, got ${describe(value)}`,
      );
    return bytes;
  },
  fromLdap(value) {
    if (!GUID_TEXT.test(value))
      throw new TransformError(`directory value ${JSON.stringify(value)} is not a GUID`);
    return value.toLowerCase();
  },
  compareFilter(attribute, operator, value) {
    if (operator !== 'eq' && operator !== 'ne')
      throw new TransformError(`only eq and ne can compare the GUID ${attribute}, got "${operator}"`);
    const equal: DirFilter = {
      type: 'equal',
      attribute,
      value: this.toLdapBytes?.(value) ?? Buffer.alloc(0),
    };
    return operator === 'eq' ? equal : { type: 'not', filter: equal };
  },
  fromLdapBytes(value) {
    if (value.length !== 16)
      throw new TransformError(`directory value of ${value.length} bytes is not a 16-byte GUID`);
    return guidToString(value);
  },
};

/**
 * SCIM `password` -> Active Directory `unicodePwd`: the password in double quotes (MS-ADTS
 * §3.1.1.3.1.5). The LDAP adapter encodes it UTF-16LE and sends it only over LDAPS or StartTLS.
 * AD never returns unicodePwd, so there is no read direction.
 */
const unicodePwdTransform: Transform = {
  name: 'unicodePwd',
  scimType: 'string',
  toLdap(value) {
    if (typeof value !== 'string' || value === '')
      throw new TransformError(`expected a non-empty password string, got ${describe(value)}`);
    // AD's own limit (MS-ADTS: at most 256 characters, without the quotes).
    if (value.length > 256) throw new TransformError('a password longer than 256 characters');
    return `"${value}"`;
  },
  fromLdap() {
    throw new TransformError('unicodePwd is write-only: Active Directory never returns it');
  },
};

/**
 * RFC 4517 §3.3.28 Postal Address: lines separated by "$", with "\\" and "$" inside a line written
 * as "\\5C" and "\\24". SCIM `addresses.formatted` is one string with line breaks (RFC 7643 §4.1.2),
 * so writing splits on line breaks and joins with "$"; reading splits on "$" and joins with "\n".
 */
const postalAddressTransform: Transform = {
  name: 'postalAddress',
  scimType: 'string',
  toLdap(value) {
    const text = stringTransform.toLdap(value);
    const lines = text.split(/\r\n|\r|\n/).map((line) => line.trim());
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    if (lines.length === 0) return '';
    if (lines.some((line) => line === ''))
      throw new TransformError(
        'an empty line inside a postal address (RFC 4517 §3.3.28 needs at least one character per line)',
      );
    return lines.map((line) => line.replaceAll('\\', '\\5C').replaceAll('$', '\\24')).join('$');
  },
  fromLdap(value) {
    return value
      .split('$')
      .map((line) =>
        line.trim().replace(/\\(5c|24)/gi, (sequence) => (sequence.toLowerCase() === '\\5c' ? '\\' : '$')),
      )
      .join('\n');
  },
};

/**
 * `split`: a multi-valued SCIM string attribute kept in ONE LDAP value, its elements joined by a
 * separator (`separator:` in the mapping, default ","). An element containing the separator could
 * not be read back as written, so it is refused; empty elements are dropped. Filters: eq, sw, ew
 * and co match one element through substring filters on the joined value (RFC 4515), ordering
 * operators are refused.
 */
export function splitTransform(separator: string): Transform {
  if (separator === '') throw new TransformError('the split separator must not be empty');
  const element = (value: unknown): string => {
    const text = stringTransform.toLdap(value);
    if (text.includes(separator))
      throw new TransformError(
        `${JSON.stringify(text)} contains the separator ${JSON.stringify(separator)} this attribute is stored with`,
      );
    return text;
  };
  return {
    name: 'split',
    scimType: 'string',
    toLdap: element,
    fromLdap: (value) => value,
    joinValues: (values) =>
      values
        .map(element)
        .filter((v) => v !== '')
        .join(separator),
    splitValue: (value) => value.split(separator).filter((v) => v !== ''),
    compareFilter(attribute, operator, value) {
      const v = element(value);
      const sub = (initial: string | undefined, any: string[], final?: string): DirFilter => ({
        type: 'substring',
        attribute,
        ...(initial === undefined ? {} : { initial }),
        any,
        ...(final === undefined ? {} : { final }),
      });
      if (v === '') return operator === 'ne' ? { type: 'true' } : { type: 'present', attribute };
      const equal: DirFilter = {
        type: 'or',
        filters: [
          { type: 'equal', attribute, value: v },
          sub(v + separator, []),
          sub(undefined, [], separator + v),
          sub(undefined, [separator + v + separator]),
        ],
      };
      switch (operator) {
        case 'eq':
          return equal;
        case 'ne':
          return { type: 'not', filter: equal };
        case 'sw':
          return { type: 'or', filters: [sub(v, []), sub(undefined, [separator + v])] };
        case 'ew':
          return { type: 'or', filters: [sub(undefined, [], v), sub(undefined, [v + separator])] };
        case 'co':
          return sub(undefined, [v]);
        default:
          throw new TransformError(`operator "${operator}" cannot compare the elements of a split list`);
      }
    },
  };
}

export const TRANSFORMS: ReadonlyMap<string, Transform> = new Map(
  [
    stringTransform,
    booleanTransform,
    integerTransform,
    dateTimeTransform,
    lowercaseTransform,
    invertedBooleanTransform,
    adAccountDisabledTransform,
    guidTransform,
    unicodePwdTransform,
    postalAddressTransform,
  ].map((t) => [t.name, t]),
);

export function parseXsdDateTime(text: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function toGeneralizedTime(date: Date): string {
  const iso = date.toISOString(); // 2024-05-01T12:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/**
 * GeneralizedTime -> ISO 8601 text as Date#toISOString writes it. Timestamps are read on every
 * GET (meta.created, meta.lastModified): the common form `YYYYMMDDHHMMSSZ` with in-range fields is
 * rewritten directly; anything else goes through parseGeneralizedTime (same result).
 */
export function generalizedTimeToIso(text: string): string | undefined {
  if (text.length === 15 && text.charCodeAt(14) === 90 /* Z */ && /^\d{14}Z$/.test(text)) {
    const year = Number(text.slice(0, 4));
    const month = Number(text.slice(4, 6));
    const day = Number(text.slice(6, 8));
    if (
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= daysInMonth(year, month) &&
      Number(text.slice(8, 10)) <= 23 &&
      Number(text.slice(10, 12)) <= 59 &&
      Number(text.slice(12, 14)) <= 59
    ) {
      return `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}T${text.slice(8, 10)}:${text.slice(10, 12)}:${text.slice(12, 14)}.000Z`;
    }
  }
  return parseGeneralizedTime(text)?.toISOString();
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export function parseGeneralizedTime(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi = '00', s = '00', frac, zone] = m;
  const ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
  const offset = zone === 'Z' || !zone ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${String(ms).padStart(3, '0')}${offset}`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

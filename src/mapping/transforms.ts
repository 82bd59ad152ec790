/**
 * Named transforms between a SCIM value and the LDAP string(s) that store it. Mapping files name
 * them; nothing is evaluated. Each direction throws TransformError for values it cannot convert,
 * which the services report as 400 invalidValue naming the attribute.
 */
export class TransformError extends Error {
  override readonly name = 'TransformError';
}

export interface Transform {
  name: string;
  /** The SCIM type the transform produces on read, used to check the mapping. */
  scimType: 'string' | 'boolean' | 'integer' | 'dateTime' | 'reference';
  toLdap(value: unknown): string;
  fromLdap(value: string): unknown;
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

export const TRANSFORMS: ReadonlyMap<string, Transform> = new Map(
  [stringTransform, booleanTransform, integerTransform, dateTimeTransform, lowercaseTransform].map((t) => [
    t.name,
    t,
  ]),
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

/**
 * A resource as the SCIM layer handles it (a JSON object against the schemas of a resource type):
 * attribute resolution (RFC 7643 §2.1: names are case-insensitive; RFC 7644 §3.10: only the core
 * schema's prefix may be omitted) and the value checks shared by POST/PUT canonicalisation
 * (canonicalize.ts) and PATCH (patch.ts): types (RFC 7643 §2.3), required sub-attributes, one
 * primary value, SCIM equality.
 */
import { ScimError } from './errors.ts';
import type { AttributePath } from './filter-ast.ts';
import { COMMON_ATTRIBUTES, findAttribute, findSubAttribute, urnMatches } from './schema-defs.ts';
import type { AttributeDefinition, SchemaDefinition } from './schema-types.ts';

export interface ResourceShape {
  coreSchema: SchemaDefinition;
  extensions: { schema: SchemaDefinition; required: boolean }[];
}

export type ScimObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is ScimObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Schema and attribute resolution

export interface SchemaRef {
  schema: SchemaDefinition;
  extension: boolean;
}

/** The schema of `shape` a URI names (case-insensitive, Entra's `2.0User` spelling accepted). */
export function schemaOf(shape: ResourceShape, urn: string): SchemaRef | undefined {
  if (urnMatches(urn, shape.coreSchema.id)) return { schema: shape.coreSchema, extension: false };
  const ext = shape.extensions.find((e) => urnMatches(urn, e.schema.id));
  return ext ? { schema: ext.schema, extension: true } : undefined;
}

export interface AttributeTarget {
  schema: SchemaDefinition;
  /** Extension attributes live in `resource[schema.id]` (RFC 7643 §3.3). */
  extension: boolean;
  def: AttributeDefinition;
  sub?: AttributeDefinition;
}

/**
 * The definition an attribute path names. Unqualified names are core or common attributes
 * (RFC 7644 §3.10: only the core schema's prefix may be omitted); extension attributes need
 * their schema URI.
 */
export function resolveAttribute(shape: ResourceShape, path: AttributePath): AttributeTarget | undefined {
  let ref: SchemaRef | undefined = { schema: shape.coreSchema, extension: false };
  if (path.schema !== undefined) ref = schemaOf(shape, path.schema);
  if (!ref) return undefined;
  const candidates = ref.extension ? ref.schema.attributes : [...COMMON_ATTRIBUTES, ...ref.schema.attributes];
  const def = findAttribute(candidates, path.attribute);
  if (!def) return undefined;
  if (path.subAttribute === undefined) return { schema: ref.schema, extension: ref.extension, def };
  const sub = findSubAttribute(def, path.subAttribute);
  return sub ? { schema: ref.schema, extension: ref.extension, def, sub } : undefined;
}

/** How an attribute is named in error details: `emails`, `urn:...:User:manager`. */
export function attributeLabel(target: {
  schema: SchemaDefinition;
  extension: boolean;
  def: AttributeDefinition;
}): string {
  return target.extension ? `${target.schema.id}:${target.def.name}` : target.def.name;
}

// ---------------------------------------------------------------------------------------------
// Values

// xsd:dateTime (RFC 7643 §2.3.5). Anchored, no nested quantifiers: linear time.
const DATE_TIME = /^-?\d{4,}-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$/;
// base64 (RFC 7643 §2.3.6 refers to RFC 4648 §4); the URL-safe alphabet is tolerated.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function isDateTime(text: string): boolean {
  const m = DATE_TIME.exec(text);
  if (!m) return false;
  const [month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 24 && minute <= 59 && second <= 60;
}

function typeError(label: string, what: string): ScimError {
  return ScimError.invalidValue(`${label} must be ${what}`);
}

function coerceSimple(def: AttributeDefinition, value: unknown, label: string): unknown {
  switch (def.type) {
    case 'string':
    case 'reference':
      if (typeof value === 'string') return value;
      throw typeError(label, 'a string');
    case 'binary':
      if (typeof value === 'string' && BASE64.test(value)) return value;
      throw typeError(label, 'a base64-encoded string');
    case 'boolean':
      if (typeof value === 'boolean') return value;
      // Entra ID sends booleans as "True"/"False".
      if (typeof value === 'string') {
        const lower = value.toLowerCase();
        if (lower === 'true') return true;
        if (lower === 'false') return false;
      }
      throw typeError(label, 'a boolean');
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      throw typeError(label, 'an integer');
    case 'decimal':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      throw typeError(label, 'a number');
    case 'dateTime':
      if (typeof value === 'string' && isDateTime(value)) return value;
      throw typeError(label, 'a dateTime (xsd:dateTime, e.g. 2008-01-23T04:56:22Z)');
    case 'complex':
      throw typeError(label, 'an object');
  }
}

function coerceComplex(
  def: AttributeDefinition,
  value: unknown,
  label: string,
  ignored: string[],
  checkRequired: boolean,
): ScimObject | undefined {
  let obj = value;
  if (!isPlainObject(obj)) {
    // A bare string for a complex attribute with a `value` sub-attribute (Entra's `manager`).
    if (typeof obj === 'string' && findSubAttribute(def, 'value')) obj = { value: obj };
    else throw typeError(label, 'an object');
  }
  const out: ScimObject = {};
  const seen = new Set<string>();
  for (const [key, raw] of Object.entries(obj as ScimObject)) {
    const sub = findSubAttribute(def, key);
    if (!sub) {
      ignored.push(`${label}.${key}`);
      continue;
    }
    if (seen.has(sub.name)) throw ScimError.invalidValue(`${label}.${sub.name} is given more than once`);
    seen.add(sub.name);
    if (sub.mutability === 'readOnly') continue;
    const v = coerceValue(sub, raw, `${label}.${sub.name}`, ignored);
    if (v !== undefined) out[sub.name] = v;
  }
  if (Object.keys(out).length === 0) return undefined;
  if (checkRequired) checkRequiredSubAttributes(def, out, label);
  return out;
}

/** Required sub-attributes (RFC 7643 §2.2 "required") of one complex value. */
export function checkRequiredSubAttributes(def: AttributeDefinition, value: ScimObject, label: string): void {
  for (const sub of def.subAttributes ?? []) {
    if (sub.required && sub.mutability !== 'readOnly' && value[sub.name] === undefined) {
      throw ScimError.invalidValue(`${label}.${sub.name} is required`);
    }
  }
}

/**
 * Checks ONE value (a single-valued attribute's value, or one element of a multi-valued one)
 * and returns it canonicalised; undefined when it is unassigned.
 */
export function coerceSingle(
  def: AttributeDefinition,
  value: unknown,
  label: string,
  ignored: string[],
  options: { checkRequired?: boolean } = {},
): unknown {
  if (value === null || value === undefined) return undefined;
  if (def.type === 'complex') return coerceComplex(def, value, label, ignored, options.checkRequired ?? true);
  return coerceSimple(def, value, label);
}

/**
 * Checks an attribute's whole value against its definition and returns it canonicalised, or
 * undefined when it is unassigned (null, [], an object with nothing left in it).
 */
export function coerceValue(
  def: AttributeDefinition,
  value: unknown,
  label: string,
  ignored: string[],
  options: { checkRequired?: boolean } = {},
): unknown {
  if (value === null || value === undefined) return undefined;
  if (!def.multiValued) {
    if (Array.isArray(value)) {
      if (value.length === 0) return undefined;
      // Entra sends a single-valued complex attribute as a one-element array
      // (`"manager": [{"value": "id"}]`): read it as that one value.
      if (value.length === 1 && def.type === 'complex')
        return coerceSingle(def, value[0], label, ignored, options);
      throw typeError(label, 'a single value, not an array');
    }
    return coerceSingle(def, value, label, ignored, options);
  }
  // One value where an array is expected is read as an array of one (clients send
  // `"emails": {...}`); RFC 7643 §2.4 wants an array.
  const items = Array.isArray(value) ? value : [value];
  const out: unknown[] = [];
  items.forEach((item, i) => {
    const itemLabel = `${label}[${i}]`;
    if (item === null || item === undefined) throw ScimError.invalidValue(`${itemLabel} must not be null`);
    if (Array.isArray(item)) throw typeError(itemLabel, 'a single value, not an array');
    const v = coerceSingle(def, item, itemLabel, ignored, options);
    if (v !== undefined) out.push(v);
  });
  if (out.length === 0) return undefined;
  checkOnePrimary(def, out, label);
  return out;
}

/** RFC 7643 §2.4: the primary attribute value "true" MUST appear no more than once. */
export function checkOnePrimary(def: AttributeDefinition, values: readonly unknown[], label: string): void {
  if (!findSubAttribute(def, 'primary')) return;
  const primaries = values.filter((v) => isPlainObject(v) && v.primary === true).length;
  if (primaries > 1) {
    throw ScimError.invalidValue(
      `${label} has ${primaries} values with "primary": true; at most one is allowed`,
    );
  }
}

/**
 * SCIM equality of two values of one attribute: strings per caseExact (RFC 7643 §2.2),
 * complex values sub-attribute by sub-attribute, multi-valued ones as sets; unassigned values
 * (undefined, null, []) are equal to each other.
 */
export function valuesEqual(def: AttributeDefinition, a: unknown, b: unknown): boolean {
  const unassigned = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0);
  if (unassigned(a) || unassigned(b)) return unassigned(a) && unassigned(b);
  if (def.multiValued) {
    const xs = Array.isArray(a) ? a : [a];
    const ys = Array.isArray(b) ? b : [b];
    if (xs.length !== ys.length) return false;
    const one: AttributeDefinition = { ...def, multiValued: false };
    return (
      xs.every((x) => ys.some((y) => valuesEqual(one, x, y))) &&
      ys.every((y) => xs.some((x) => valuesEqual(one, x, y)))
    );
  }
  if (def.type === 'complex') {
    if (!isPlainObject(a) || !isPlainObject(b)) return false;
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const sub = findSubAttribute(def, key);
      const x = a[key];
      const y = b[key];
      if (sub ? !valuesEqual(sub, x, y) : JSON.stringify(x) !== JSON.stringify(y)) return false;
    }
    return true;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    return def.caseExact ? a === b : a.toLowerCase() === b.toLowerCase();
  }
  return a === b;
}

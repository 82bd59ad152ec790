/**
 * Validation and canonicalisation of incoming resources (POST and PUT bodies, RFC 7644 §3.3,
 * §3.5.1) against the schemas of a resource type; the attribute resolution and value checks it
 * shares with PATCH are in resource.ts.
 *
 * The output uses the schema's spelling of every name (RFC 7643 §2.1: names are
 * case-insensitive), keeps extension attributes under their schema URI (§3.3), drops readOnly
 * and unassigned values, and types every value. Decisions where the RFCs leave room:
 * - missing `schemas` is tolerated (the endpoint already fixes the resource type, and it is
 *   recomputed for the output); present but without the core schema, it is a 400 invalidValue;
 *   a URI the type does not know is accepted when the body carries nothing under it (Entra's
 *   ADSCIM Group URI), and refused naming it when it carries attributes (RFC 7643 §3);
 * - unknown attributes are ignored (RFC 7644 §3.3 "MAY ignore") and reported in `ignored`;
 * - readOnly attributes (id, meta, groups, manager.displayName...) are dropped silently
 *   (RFC 7643 §2.2, RFC 7644 §3.5.1 "SHALL be ignored");
 * - null and [] are "unassigned" (RFC 7643 §2.5) and leave the attribute out;
 * - dialects: booleans as "True"/"false" strings (Entra), one object where an array is
 *   expected (wrapped), a bare string for a complex attribute that has a `value` sub-attribute
 *   (Entra's `manager: "id"` becomes `{value: "id"}`), extension attributes flattened to
 *   top-level `urn:...:User:employeeNumber` keys, and Entra's `...:enterprise:2.0User` spelling.
 */
import { ScimError } from './errors.ts';
import { parseAttributePath } from './filter.ts';
import type { AttributePath } from './filter-ast.ts';
import {
  type AttributeTarget,
  attributeLabel,
  coerceValue,
  isPlainObject,
  type ResourceShape,
  resolveAttribute,
  type ScimObject,
  schemaOf,
  valuesEqual,
} from './resource.ts';
import { COMMON_ATTRIBUTES } from './schema-defs.ts';
import type { AttributeDefinition } from './schema-types.ts';

export interface CanonicalResource {
  resource: ScimObject;
  /** Paths of attributes that were not recognised and left out (`foo`, `emails[0].bar`). */
  ignored: string[];
}

function tryParsePath(text: string): AttributePath | undefined {
  try {
    return parseAttributePath(text);
  } catch {
    return undefined;
  }
}

/**
 * `schemas` (RFC 7643 §3): undefined when absent (tolerated), else the extension ids it lists.
 * A URI the resource type does not know is not an error by itself: `schemas` only says which
 * schemas the representation uses (Entra lists its ADSCIM Group URI with no attribute under it),
 * and what the body carries under such a URI is refused in `collectAttributes`.
 */
function checkSchemas(body: ScimObject, shape: ResourceShape): Set<string> | undefined {
  const key = Object.keys(body).find((k) => k.toLowerCase() === 'schemas');
  if (key === undefined) return undefined;
  const value = body[key];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw ScimError.invalidSyntax('"schemas" must be an array of schema URIs');
  }
  const extensions = new Set<string>();
  let hasCore = false;
  for (const urn of value as string[]) {
    const ref = schemaOf(shape, urn);
    if (ref?.extension) extensions.add(ref.schema.id);
    else if (ref) hasCore = true;
  }
  if (!hasCore) throw ScimError.invalidValue(`"schemas" must include ${shape.coreSchema.id}`);
  return extensions;
}

/** A key that names a schema rather than an attribute: a URN, an http(s) URI, or listed in `schemas`. */
function isSchemaUri(key: string, listed: readonly string[]): boolean {
  const lower = key.toLowerCase();
  return (
    lower.startsWith('urn:') ||
    /^[a-z][a-z0-9+.-]*:\/\//.test(lower) ||
    listed.some((s) => s.toLowerCase() === lower)
  );
}

/** Whether a key the type cannot resolve is a schema URI, or an attribute qualified by one, it lacks. */
function underUnknownSchema(
  shape: ResourceShape,
  key: string,
  path: AttributePath | undefined,
  listed: readonly string[],
): boolean {
  if (path?.schema !== undefined) return !schemaOf(shape, path.schema);
  return isSchemaUri(key, listed);
}

/**
 * Attributes under a schema URI the resource type does not have cannot be stored: refused with
 * the URI named, whether or not `schemas` lists it, rather than dropped unseen (RFC 7643 §3:
 * attributes of an extension sit under its URI). An empty object or null carries nothing.
 */
function refuseUnknownSchema(key: string, raw: unknown): void {
  if (raw === null || raw === undefined || (isPlainObject(raw) && Object.keys(raw).length === 0)) return;
  const names = isPlainObject(raw) ? ` (${Object.keys(raw).slice(0, 5).join(', ')})` : '';
  throw ScimError.invalidValue(
    `"${key}" carries a value${names}, but it names a schema this resource type does not have (RFC 7643 §3)`,
  );
}

/** The URIs `schemas` lists, as given (for `isSchemaUri`). */
function listedUris(body: ScimObject): string[] {
  const key = Object.keys(body).find((k) => k.toLowerCase() === 'schemas');
  const value = key === undefined ? undefined : body[key];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

interface Pending {
  target: AttributeTarget;
  raw: unknown;
  /** Built from flattened `attr.sub` keys rather than given whole. */
  fromSubs: boolean;
}

/**
 * Immutable attributes (RFC 7644 §3.5.1): on replace, a value already set must match; omitted,
 * it keeps its value. Sub-attributes of single-valued complex attributes likewise. (Values of
 * multi-valued attributes have no identity across a replace, so their sub-attributes are not
 * compared.)
 */
function enforceImmutable(
  defs: readonly AttributeDefinition[],
  next: ScimObject,
  prev: ScimObject,
  labelOf: (def: AttributeDefinition) => string,
): void {
  for (const def of defs) {
    if (def.mutability === 'readOnly') continue;
    const before = prev[def.name];
    const after = next[def.name];
    if (def.mutability === 'immutable') {
      if (before === undefined || before === null) continue;
      if (after === undefined) next[def.name] = structuredClone(before);
      else if (!valuesEqual(def, before, after)) {
        throw ScimError.mutability(`${labelOf(def)} is immutable: it cannot be changed once set`);
      }
    } else if (def.type === 'complex' && !def.multiValued && isPlainObject(after) && isPlainObject(before)) {
      enforceImmutable(def.subAttributes ?? [], after, before, (sub) => `${labelOf(def)}.${sub.name}`);
    }
  }
}

/**
 * Validates and canonicalises a POST (`create`) or PUT (`replace`) body. For `replace`, pass the
 * stored resource as `existing` to have immutable attributes enforced (RFC 7644 §3.5.1).
 * Throws 400 invalidSyntax (not an object), invalidValue (types, required, primary, schemas) or
 * mutability.
 */
export function canonicalizeResourceWithReport(
  body: unknown,
  shape: ResourceShape,
  mode: 'create' | 'replace',
  existing?: ScimObject,
): CanonicalResource {
  if (!isPlainObject(body)) throw ScimError.invalidSyntax('The request body must be a JSON object');
  const ignored: string[] = [];
  const listed = checkSchemas(body, shape);
  const pending = collectAttributes(body, shape, ignored);
  const { core, extensions } = coerceAll(pending, ignored);
  if (mode === 'replace' && existing) keepImmutable(shape, core, extensions, existing);
  const schemas = checkRequired(shape, core, extensions, listed);
  const resource: ScimObject = { schemas, ...core };
  for (const [id, values] of extensions) resource[id] = values;
  return { resource, ignored };
}

/** The body's attributes by target, top-level, flattened (`name.givenName`) or under an extension URI. */
function collectAttributes(body: ScimObject, shape: ResourceShape, ignored: string[]): Map<string, Pending> {
  const pending = new Map<string, Pending>();
  const listed = listedUris(body);
  for (const [key, raw] of Object.entries(body)) {
    if (key.toLowerCase() === 'schemas') continue;
    const container = schemaOf(shape, key);
    if (container) {
      // `"urn:...:User": {...}` holds an extension's attributes (RFC 7643 §3.3).
      if (!container.extension) {
        ignored.push(key);
        continue;
      }
      if (raw === null || raw === undefined) continue;
      if (!isPlainObject(raw)) throw ScimError.invalidValue(`${container.schema.id} must be an object`);
      for (const [inner, value] of Object.entries(raw)) {
        const path = tryParsePath(inner);
        const target =
          path && path.schema === undefined
            ? resolveAttribute(shape, { ...path, schema: container.schema.id })
            : undefined;
        if (!target) ignored.push(`${container.schema.id}:${inner}`);
        else place(pending, ignored, target, value, inner);
      }
      continue;
    }
    const path = tryParsePath(key);
    const target = path ? resolveAttribute(shape, path) : undefined;
    if (target) place(pending, ignored, target, raw, key);
    else if (underUnknownSchema(shape, key, path, listed)) refuseUnknownSchema(key, raw);
    else ignored.push(key);
  }
  return pending;
}

/** One attribute of the body, whole or one sub-attribute of it; each may be given once. */
function place(
  pending: Map<string, Pending>,
  ignored: string[],
  target: AttributeTarget,
  raw: unknown,
  original: string,
): void {
  const key = `${target.schema.id}|${target.def.name}`;
  const label = attributeLabel(target);
  const prior = pending.get(key);
  if (target.sub === undefined) {
    if (prior) throw ScimError.invalidValue(`${label} is given more than once (as "${original}")`);
    pending.set(key, { target, raw, fromSubs: false });
    return;
  }
  if (target.def.multiValued) {
    // `emails.value` cannot say which value it means.
    ignored.push(original);
    return;
  }
  const subName = target.sub.name;
  if (prior && (!prior.fromSubs || (prior.raw as ScimObject)[subName] !== undefined)) {
    throw ScimError.invalidValue(`${label}.${subName} is given more than once (as "${original}")`);
  }
  const entry = prior ?? { target: { ...target, sub: undefined }, raw: {}, fromSubs: true };
  (entry.raw as ScimObject)[subName] = raw;
  pending.set(key, entry);
}

/** Typed values, core attributes apart from each extension's. */
function coerceAll(
  pending: Map<string, Pending>,
  ignored: string[],
): { core: ScimObject; extensions: Map<string, ScimObject> } {
  const core: ScimObject = {};
  const extensions = new Map<string, ScimObject>();
  for (const { target, raw } of pending.values()) {
    // readOnly values are ignored on input (RFC 7643 §2.2, RFC 7644 §3.5.1).
    if (target.def.mutability === 'readOnly') continue;
    const value = coerceValue(target.def, raw, attributeLabel(target), ignored);
    if (value === undefined) continue;
    let container = core;
    if (target.extension) {
      container = extensions.get(target.schema.id) ?? {};
      extensions.set(target.schema.id, container);
    }
    container[target.def.name] = value;
  }
  return { core, extensions };
}

/** A replace keeps (or must repeat) the immutable values already set (RFC 7644 §3.5.1). */
function keepImmutable(
  shape: ResourceShape,
  core: ScimObject,
  extensions: Map<string, ScimObject>,
  existing: ScimObject,
): void {
  enforceImmutable(shape.coreSchema.attributes, core, existing, (d) => d.name);
  enforceImmutable(COMMON_ATTRIBUTES, core, existing, (d) => d.name);
  for (const { schema } of shape.extensions) {
    const before = existing[schema.id];
    if (!isPlainObject(before)) continue;
    const after = extensions.get(schema.id) ?? {};
    enforceImmutable(schema.attributes, after, before, (d) => `${schema.id}:${d.name}`);
    if (Object.keys(after).length > 0) extensions.set(schema.id, after);
  }
}

/**
 * Required attributes (RFC 7643 §2.2), core and of every extension present or required
 * (RFC 7643 §6 "required" schema extensions). Returns the resource's `schemas`.
 */
function checkRequired(
  shape: ResourceShape,
  core: ScimObject,
  extensions: Map<string, ScimObject>,
  listed: Set<string> | undefined,
): string[] {
  const missing: string[] = [];
  for (const def of shape.coreSchema.attributes) {
    if (def.required && def.mutability !== 'readOnly' && core[def.name] === undefined) missing.push(def.name);
  }
  const schemas = [shape.coreSchema.id];
  for (const { schema, required } of shape.extensions) {
    const values = extensions.get(schema.id);
    const named = listed?.has(schema.id) ?? false;
    if (!values && !named) {
      if (required) {
        throw ScimError.invalidValue(`The schema extension ${schema.id} is required for this resource type`);
      }
      continue;
    }
    for (const def of schema.attributes) {
      if (def.required && def.mutability !== 'readOnly' && values?.[def.name] === undefined) {
        missing.push(`${schema.id}:${def.name}`);
      }
    }
    if (values || required) schemas.push(schema.id);
  }
  if (missing.length > 0)
    throw ScimError.invalidValue(`Required attribute(s) missing: ${missing.join(', ')}`);
  return schemas;
}

/** {@link canonicalizeResourceWithReport} without the report of ignored attributes. */
export function canonicalizeResource(
  body: unknown,
  shape: ResourceShape,
  mode: 'create' | 'replace',
  existing?: ScimObject,
): ScimObject {
  return canonicalizeResourceWithReport(body, shape, mode, existing).resource;
}

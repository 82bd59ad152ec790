/**
 * Entry <-> resource conversion through a compiled mapping. Pure: references (DN <-> id) are
 * resolved by the caller, which passes them in.
 */
import { escapeDnValue } from '../lib/dn.ts';
import type { DirEntry, DirValue } from '../ports/directory.ts';
import { type CompiledResourceType, type CompiledRule, ruleMatchesPath } from './compiled.ts';
import { dropTemplateFallbacks, fallbacksOf, fallbackTokens, isFallback, primaryToken } from './fallbacks.ts';
import { nameProblem, nameRules } from './names.ts';
import { generalizedTimeToIso, guidToString, TransformError } from './transforms.ts';

export type ScimObject = Record<string, unknown>;

/** A referenced resource, as it appears in `members`, `groups` or `manager`. */
export interface ReferenceValue {
  value: string;
  $ref?: string;
  display?: string;
  type?: string;
}

/** A SCIM value the mapping could not convert; the service answers 400 invalidValue naming `attribute`. */
export class MappingValueError extends Error {
  override readonly name = 'MappingValueError';
  readonly attribute: string;
  constructor(attribute: string, message: string) {
    super(`${attribute}: ${message}`);
    this.attribute = attribute;
  }
}

export const META_SCHEMA_FREE = ['id', 'externalId', 'meta', 'schemas'] as const;

export function valueText(value: DirValue): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}

/** The lower-cased keys (DirEntry attributes are keyed so) of a type's id, version and timestamps. */
interface EntryKeys {
  id: string;
  version: string;
  created: string;
  lastModified: string;
}

/** Worked out once per compiled type: every read of every entry looks these up (issue 17). */
const entryKeysByType = new WeakMap<CompiledResourceType, EntryKeys>();

function entryKeys(rt: CompiledResourceType): EntryKeys {
  let keys = entryKeysByType.get(rt);
  if (!keys) {
    const d = rt.directory;
    keys = {
      id: d.idAttribute.toLowerCase(),
      version: d.versionAttribute.toLowerCase(),
      created: d.createdAttribute.toLowerCase(),
      lastModified: d.lastModifiedAttribute.toLowerCase(),
    };
    entryKeysByType.set(rt, keys);
  }
  return keys;
}

/** The SCIM id of an entry: entryUUID as is; objectGUID as its canonical string form. */
export function entryId(rt: CompiledResourceType, entry: DirEntry): string | undefined {
  const raw = entry.attributes[entryKeys(rt).id]?.[0];
  if (raw === undefined) return undefined;
  if (typeof raw === 'string') return raw.toLowerCase();
  return guidToString(raw);
}

/** The entry's version attribute as text (entryCSN, uSNChanged): the one place it is read. */
export function entryVersionText(rt: CompiledResourceType, entry: DirEntry): string | undefined {
  const raw = entry.attributes[entryKeys(rt).version]?.[0];
  return raw === undefined ? undefined : valueText(raw);
}

/** meta.version from the entry's version attribute: a weak ETag (RFC 7644 §3.14). */
export function entryVersion(rt: CompiledResourceType, entry: DirEntry): string | undefined {
  const text = entryVersionText(rt, entry);
  return text === undefined ? undefined : `W/"${text}"`;
}

/** LDAP attributes to read for a full resource (before projection), with objectClass for writes. */
export function allReadAttributes(rt: CompiledResourceType): string[] {
  return readAttributeNames(rt, () => true, ['objectClass']);
}

/** The id, version and timestamps, and the attributes of the forward-read rules `include` keeps. */
export function readAttributeNames(
  rt: CompiledResourceType,
  include: (rule: CompiledRule) => boolean,
  extra: readonly string[] = [],
): string[] {
  const d = rt.directory;
  const names = new Set<string>([
    d.idAttribute,
    d.versionAttribute,
    d.createdAttribute,
    d.lastModifiedAttribute,
    ...(d.fallbackMarker ? [d.fallbackMarker] : []),
    ...extra,
  ]);
  for (const rule of rt.rules) if (readsForward(rule) && include(rule)) names.add(rule.ldap);
  return [...names];
}

/**
 * Whether a reference rule is read from the entry's own attribute (memberOf, manager: few values)
 * rather than by searching the back-links (a group's members: possibly very many values).
 */
export function readsForward(rule: CompiledRule): boolean {
  return !rule.reverse || rule.readOnly;
}

export interface ToResourceOptions {
  location: string;
  /** Resolved values of reference rules, by rule key. Rules absent here are left out. */
  references: ReadonlyMap<string, ReferenceValue[]>;
  /** The rules whose attributes are wanted in the response (a projection's); default: all. */
  rules?: readonly CompiledRule[];
  /**
   * Multi-valued references with no value are unassigned and left out (RFC 7643 §2.5); those
   * this names (asked for by name, RFC 7644 §3.9) are given as [].
   */
  keepEmpty?: (rule: CompiledRule) => boolean;
}

export function entryToResource(
  rt: CompiledResourceType,
  entry: DirEntry,
  options: ToResourceOptions,
): ScimObject {
  const id = entryId(rt, entry);
  const resource: ScimObject = { schemas: [rt.coreSchema.id], id };
  const fallbacks = fallbacksOf(rt, entry);
  for (const rule of options.rules ?? rt.rules) {
    if (rule.leafDefinition.returned === 'never') continue;
    if (isFallback(rule, fallbacks)) continue;
    if (rule.references) {
      const refs = options.references.get(rule.key);
      if (!refs || (refs.length === 0 && !options.keepEmpty?.(rule))) continue;
      placeReferences(containerFor(resource, rule), rule, refs);
      continue;
    }
    const raw = entry.attributes[rule.ldapKey];
    if (!raw) continue;
    const values = scimValuesOf(rule, raw);
    const primary = rule.primary && !fallbacks.has(primaryToken(rule));
    // The container (an extension object) is made only for a value: one made and deleted again
    // would leave the resource a slow dictionary-mode object (issue 17: CPU per read).
    if (values.length > 0) placeValues(containerFor(resource, rule), rule, values, primary);
  }
  if (!rt.directory.fallbackMarker)
    dropTemplateFallbacks(rt, resource, (template) => evaluateTemplate(rt, resource, template));
  dropEmptyExtensions(rt, resource);
  // schemas lists the extensions present (RFC 7643 §3); most types have none to look for.
  if (rt.extensions.length > 0)
    resource.schemas = [
      rt.coreSchema.id,
      ...rt.extensions.map((e) => e.schema.id).filter((s) => s in resource),
    ];
  resource.meta = metaOf(rt, entry, options.location);
  return resource;
}

/** The object a rule's attribute lives in: the resource, or its extension object (RFC 7643 §3.3). */
function containerFor(resource: ScimObject, rule: CompiledRule): ScimObject {
  if (rule.isCore) return resource;
  const existing = resource[rule.schema];
  if (existing && typeof existing === 'object') return existing as ScimObject;
  const created: ScimObject = {};
  resource[rule.schema] = created;
  return created;
}

/** Resolved references (`members`, `manager`) as the caller passed them. */
function placeReferences(container: ScimObject, rule: CompiledRule, refs: ReferenceValue[]): void {
  if (rule.attributeDefinition.multiValued) {
    container[rule.attribute] = refs.map((r) => ({ ...r }));
  } else if (refs[0]) {
    container[rule.attribute] = { ...refs[0] };
  }
}

/** An attribute's LDAP values through the rule's transform. */
function scimValuesOf(rule: CompiledRule, raw: readonly DirValue[]): unknown[] {
  const values: unknown[] = [];
  const t = rule.transform;
  for (const v of raw) {
    try {
      if (t.splitValue) values.push(...t.splitValue(valueText(v)));
      else
        values.push(typeof v !== 'string' && t.fromLdapBytes ? t.fromLdapBytes(v) : t.fromLdap(valueText(v)));
    } catch (error) {
      if (!(error instanceof TransformError)) throw error;
      // A value the directory holds but SCIM cannot express is left out rather than failing the read.
    }
  }
  return values;
}

/** Extension objects left empty (template fallbacks dropped) are left out of the resource. */
function dropEmptyExtensions(rt: CompiledResourceType, resource: ScimObject): void {
  for (const { schema } of rt.extensions) {
    const v = resource[schema.id];
    if (v && typeof v === 'object' && Object.keys(v).length === 0) delete resource[schema.id];
  }
}

/** `meta` (RFC 7643 §3.1) from the entry's timestamps and version attribute. */
function metaOf(rt: CompiledResourceType, entry: DirEntry, location: string): ScimObject {
  const keys = entryKeys(rt);
  const meta: ScimObject = { resourceType: rt.name };
  const created = timestamp(entry.attributes[keys.created]?.[0]);
  const modified = timestamp(entry.attributes[keys.lastModified]?.[0]);
  if (created) meta.created = created;
  if (modified ?? created) meta.lastModified = modified ?? created;
  meta.location = location;
  const version = entryVersion(rt, entry);
  if (version) meta.version = version;
  return meta;
}

function timestamp(raw: DirValue | undefined): string | undefined {
  if (raw === undefined) return undefined;
  return generalizedTimeToIso(valueText(raw));
}

/** `primary`: the rule's first value is marked primary (the mapping's `primary`, unless a fallback). */
function placeValues(container: ScimObject, rule: CompiledRule, values: unknown[], primary: boolean): void {
  const def = rule.attributeDefinition;
  if (!rule.subAttribute) {
    container[rule.attribute] = def.multiValued ? values : values[0];
    return;
  }
  if (!def.multiValued) {
    const complex = (container[rule.attribute] as ScimObject | undefined) ?? {};
    complex[rule.subAttribute] = values[0];
    container[rule.attribute] = complex;
    return;
  }
  const list = (container[rule.attribute] as ScimObject[] | undefined) ?? [];
  // Rules selecting the same type fill the same element(s): addresses[type eq "work"].locality and
  // .country make one work address, not two.
  const sameType = list.filter((e) => rule.typeValue !== undefined && e.type === rule.typeValue);
  values.forEach((value, index) => {
    const sub = rule.subAttribute as string;
    const existing = sameType[index];
    const element: ScimObject = existing && existing[sub] === undefined ? existing : { [sub]: value };
    element[sub] = value;
    if (rule.typeValue !== undefined) element.type = rule.typeValue;
    if (primary && index === 0) element.primary = true;
    if (element !== existing) list.push(element);
  });
  container[rule.attribute] = list;
}

/** Reads the value(s) a rule maps from a (canonical) SCIM resource. */
export function valuesForRule(resource: ScimObject, rule: CompiledRule): unknown[] {
  const container = rule.isCore ? resource : (resource[rule.schema] as ScimObject | undefined);
  if (!container || typeof container !== 'object') return [];
  const raw = container[rule.attribute];
  if (raw === undefined || raw === null) return [];
  if (!rule.subAttribute)
    return (Array.isArray(raw) ? raw : [raw]).filter((v) => v !== null && v !== undefined);
  const elements = (Array.isArray(raw) ? raw : [raw]).filter(
    (e): e is ScimObject => !!e && typeof e === 'object',
  );
  const selected = rule.typeValue === undefined ? elements : elements.filter((e) => matchesType(e, rule));
  return selected.map((e) => e[rule.subAttribute as string]).filter((v) => v !== undefined && v !== null);
}

/** Whether the client marked primary the value a primary rule maps. */
function primarySent(resource: ScimObject, rule: CompiledRule): boolean {
  const container = rule.isCore ? resource : (resource[rule.schema] as ScimObject | undefined);
  const raw = container?.[rule.attribute];
  const elements = (Array.isArray(raw) ? raw : [raw]).filter(
    (e): e is ScimObject => !!e && typeof e === 'object',
  );
  return elements.some((e) => matchesType(e, rule) && e.primary === true);
}

/** An element matches a type-selecting rule by its type; an untyped element goes to the primary rule. */
function matchesType(element: ScimObject, rule: CompiledRule): boolean {
  const type = element.type;
  if (typeof type === 'string') return type.toLowerCase() === rule.typeValue?.toLowerCase();
  return rule.primary;
}

/** Reads a template path (`userName`, `name.givenName`, `emails`) as text, or undefined when absent. */
export function textAtPath(rt: CompiledResourceType, resource: ScimObject, path: string): string | undefined {
  const rule = rt.rules.find((r) => ruleMatchesPath(r, path));
  if (!rule) return undefined;
  const first = valuesForRule(resource, rule)[0];
  if (first === undefined || first === '') return undefined;
  return typeof first === 'string' ? first : String(first);
}

export function evaluateTemplate(
  rt: CompiledResourceType,
  resource: ScimObject,
  template: string,
  escapeValue: (s: string) => string = (s) => s,
): string | undefined {
  let missing = false;
  const text = template.replace(/\{([^}]+)\}/g, (_, inner: string) => {
    for (const alternative of inner.split('|')) {
      const value = textAtPath(rt, resource, alternative.trim());
      if (value !== undefined) return escapeValue(value);
    }
    missing = true;
    return '';
  });
  return missing ? undefined : text;
}

export function dnForResource(rt: CompiledResourceType, resource: ScimObject): string {
  const dn = evaluateTemplate(rt, resource, rt.directory.dnTemplate, escapeDnValue);
  if (dn === undefined) {
    throw new MappingValueError(rt.directory.rdnPath, 'is required to name the directory entry');
  }
  return dn;
}

/** LDAP values by lower-cased attribute name, with the attribute's spelling in the mapping. */
export type AttributeValues = Map<string, { ldap: string; values: string[] }>;

/** DNs for reference ids, by rule key; built by the service from one directory search. */
export type ReferenceDns = ReadonlyMap<string, string[]>;

/** Reference ids a resource carries, per reference rule (to be resolved to DNs by the service). */
export function referenceIds(rt: CompiledResourceType, resource: ScimObject): Map<string, string[]> {
  const ids = new Map<string, string[]>();
  for (const rule of rt.rules) {
    if (!rule.references || rule.readOnly) continue;
    const values = valuesForRule(resource, rule).map((v) => (typeof v === 'string' ? v : String(v)));
    if (values.length > 0) ids.set(rule.key, values);
  }
  return ids;
}

/**
 * The LDAP attributes a resource maps to. mode 'create' applies defaults; 'replace' does not.
 * Attributes the resource does not set are absent from the result.
 */
export function resourceToAttributes(
  rt: CompiledResourceType,
  resource: ScimObject,
  referenceDns: ReferenceDns,
  mode: 'create' | 'replace',
  /**
   * The entry being updated, when there is one. Transforms with toLdapWithCurrent (AD
   * userAccountControl: one bit of a flag set) merge the SCIM value into its current value.
   */
  current?: DirEntry,
): AttributeValues {
  checkNames(rt, resource);
  const out: AttributeValues = new Map();
  for (const rule of rt.rules) {
    if (rule.readOnly) continue;
    if (rule.references) {
      const dns = referenceDns.get(rule.key);
      if (dns && dns.length > 0) putValues(out, rule.ldap, dns);
      continue;
    }
    const values = valuesToWrite(resource, rule, mode);
    if (values.length === 0) continue;
    const ldapValues = ldapValuesOf(rule, values, current);
    if (ldapValues.length > 0) putValues(out, rule.ldap, ldapValues);
  }
  const filled: string[] = [];
  for (const computed of rt.directory.computed) {
    if (out.has(computed.ldapKey)) continue;
    const value = evaluateTemplate(rt, resource, computed.template);
    if (value !== undefined && value !== '') {
      putValues(out, computed.ldap, [value]);
      filled.push(computed.ldapKey);
    }
  }
  const tokens = fallbackTokens(rt, filled, (rule) => out.has(rule.ldapKey) && !primarySent(resource, rule));
  if (tokens.length > 0 && rt.directory.fallbackMarker) putValues(out, rt.directory.fallbackMarker, tokens);
  return out;
}

/** Names (DN parts, unique values) that could not round-trip: 400 naming the attribute. */
function checkNames(rt: CompiledResourceType, resource: ScimObject): void {
  for (const rule of nameRules(rt)) {
    for (const value of valuesForRule(resource, rule)) {
      const problem = typeof value === 'string' ? nameProblem(value) : undefined;
      if (problem) throw new MappingValueError(rule.key, problem);
    }
  }
}

/** Adds values under an LDAP attribute, without duplicates (several rules may map to one attribute). */
function putValues(out: AttributeValues, ldap: string, values: string[]): void {
  const key = ldap.toLowerCase();
  const existing = out.get(key);
  if (existing) existing.values.push(...values.filter((v) => !existing.values.includes(v)));
  else out.set(key, { ldap, values: [...new Set(values)] });
}

/** The SCIM values a rule writes: the mapping's default on create, one value for single-valued. */
function valuesToWrite(resource: ScimObject, rule: CompiledRule, mode: 'create' | 'replace'): unknown[] {
  let values = valuesForRule(resource, rule);
  if (values.length === 0 && mode === 'create' && rule.defaultValue !== undefined)
    values = [rule.defaultValue];
  if (!rule.attributeDefinition.multiValued && !rule.leafDefinition.multiValued && values.length > 1)
    values = [values[0]];
  return values;
}

/** SCIM values through the rule's transform; empty strings are no value. A bad value names the attribute. */
function ldapValuesOf(rule: CompiledRule, values: unknown[], current: DirEntry | undefined): string[] {
  const t = rule.transform;
  try {
    if (t.joinValues) {
      // split: the whole list is one LDAP value.
      const joined = t.joinValues(values);
      return joined === '' ? [] : [joined];
    }
    return values
      .map((v) => {
        if (!t.toLdapWithCurrent || !current) return t.toLdap(v);
        const now = current.attributes[rule.ldapKey]?.[0];
        return t.toLdapWithCurrent(v, now === undefined ? undefined : valueText(now));
      })
      .filter((v) => v !== '');
  } catch (error) {
    if (error instanceof TransformError) throw new MappingValueError(rule.key, error.message);
    throw error;
  }
}

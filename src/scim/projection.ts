/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5) and the `returned` characteristic
 * (RFC 7643 §2.2): which attributes of a resource go into a response.
 */
import { ScimError } from './errors.ts';

export interface Projection {
  /** Requested attribute paths, lower-cased ("username", "name.givenname", "urn:...:user:department"). */
  attributes?: string[];
  excludedAttributes?: string[];
}

/** Parses a comma-separated attribute list from a query string or a SearchRequest. */
export function parseAttributeList(value: unknown, parameter: string): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const items = Array.isArray(value) ? value : String(value).split(',');
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string')
      throw ScimError.invalidValue(`${parameter} must be a list of attribute names`);
    let trimmed = item.trim();
    if (trimmed === '') continue;
    // Entra sends `attributes=emails[type eq "work"]`: not an attribute name (RFC 7644 §3.4.2.5), but
    // its meaning is clear enough: the attribute, whose values the client then picks from.
    const bracket = /^([^[\]]+)\[[^\]]*\](\.[A-Za-z$][\w$-]*)?$/.exec(trimmed);
    if (bracket) trimmed = `${bracket[1]}${bracket[2] ?? ''}`;
    if (!/^(urn:[^\s,]+:)?[A-Za-z$][\w$-]*(\.[A-Za-z$][\w$-]*)?$/.test(trimmed)) {
      throw ScimError.invalidValue(`${parameter}: "${trimmed}" is not an attribute name`);
    }
    out.push(trimmed.toLowerCase());
  }
  return out.length > 0 ? out : undefined;
}

/**
 * Splits a path into schema URN, attribute and sub-attribute. The URN ends at the last colon
 * before the attribute name (URNs contain dots: `...:enterprise:2.0:User:manager.value`).
 */
export function splitPath(
  path: string,
  coreSchema: string,
): { schema: string; attribute: string; sub?: string } {
  let schema = coreSchema.toLowerCase();
  let rest = path.toLowerCase();
  if (rest.startsWith('urn:')) {
    const colon = rest.lastIndexOf(':');
    schema = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
  }
  const dot = rest.indexOf('.');
  return dot < 0
    ? { schema, attribute: rest }
    : { schema, attribute: rest.slice(0, dot), sub: rest.slice(dot + 1) };
}

/**
 * Decides whether an attribute (schema, name) is returned. `returned: always` wins over
 * excludedAttributes; `request` needs to be named; `never` is never returned.
 */
export function isReturned(
  projection: Projection,
  coreSchema: string,
  schema: string,
  attribute: string,
  returned: 'always' | 'never' | 'default' | 'request',
): boolean {
  if (returned === 'never') return false;
  if (returned === 'always') return true;
  // No projection (most requests): everything `default` is returned; no names to compare.
  if (!projection.attributes && !projection.excludedAttributes) return returned !== 'request';
  const s = schema.toLowerCase();
  const a = attribute.toLowerCase();
  const names = (list: string[]) => list.map((p) => splitPath(p, coreSchema));
  if (projection.attributes) {
    // A bare extension URN in `attributes` asks for all of that extension's attributes.
    return names(projection.attributes).some(
      (p) => (p.schema === s && p.attribute === a) || `${p.schema}:${p.attribute}` === s,
    );
  }
  if (returned === 'request') return false;
  if (projection.excludedAttributes) {
    return !names(projection.excludedAttributes).some(
      (p) => p.schema === s && p.attribute === a && p.sub === undefined,
    );
  }
  return true;
}

/**
 * Whether `attributes` names this attribute itself (`members`, `members.value`,
 * `urn:...:Group:members`), not only its extension: a multi-valued attribute asked for by name is
 * answered even when empty (`[]`), while unassigned ones are otherwise left out (RFC 7643 §2.5).
 */
export function isNamed(
  projection: Projection,
  coreSchema: string,
  schema: string,
  attribute: string,
): boolean {
  if (!projection.attributes) return false;
  const s = schema.toLowerCase();
  const a = attribute.toLowerCase();
  return projection.attributes.some((path) => {
    const p = splitPath(path, coreSchema);
    return p.schema === s && p.attribute === a;
  });
}

/**
 * Sub-attribute projection (`name.givenName`, excluded `emails.type`), worked out from a
 * projection once: keys are `schema|attribute`, lower-cased.
 */
export interface SubAttributeProjection {
  requested: ReadonlyMap<string, ReadonlySet<string>>;
  wholeRequested: ReadonlySet<string>;
  excluded: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The sub-attribute projection of a projection; undefined when it names no sub-attribute. */
export function subAttributeProjection(
  projection: Projection,
  coreSchema: string,
): SubAttributeProjection | undefined {
  if (!projection.attributes && !projection.excludedAttributes) return undefined;
  const bySub = (paths: string[] | undefined) => {
    const map = new Map<string, Set<string>>();
    for (const p of paths ?? []) {
      const { schema, attribute, sub } = splitPath(p, coreSchema);
      if (!sub) continue;
      const key = `${schema}|${attribute}`;
      const set = map.get(key) ?? new Set<string>();
      set.add(sub);
      map.set(key, set);
    }
    return map;
  };
  const requested = bySub(projection.attributes);
  const excluded = bySub(projection.excludedAttributes);
  if (requested.size === 0 && excluded.size === 0) return undefined;
  const wholeRequested = new Set(
    (projection.attributes ?? [])
      .map((p) => splitPath(p, coreSchema))
      .filter((p) => !p.sub)
      .map((p) => `${p.schema}|${p.attribute}`),
  );
  return { requested, wholeRequested, excluded };
}

/** Applies sub-attribute projection after attribute-level selection: a copy; the resource is left as it is. */
export function applySubAttributeProjection(
  resource: Record<string, unknown>,
  subs: SubAttributeProjection,
  coreSchema: string,
): Record<string, unknown> {
  const filterValue = (value: unknown, keep: (name: string) => boolean): unknown => {
    const one = (v: unknown) =>
      v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).filter(([k]) => keep(k.toLowerCase())))
        : v;
    return Array.isArray(value) ? value.map(one) : one(value);
  };
  const apply = (container: Record<string, unknown>, schema: string): void => {
    for (const [name, value] of Object.entries(container)) {
      const key = `${schema}|${name.toLowerCase()}`;
      const wanted = subs.requested.get(key);
      if (wanted && !subs.wholeRequested.has(key)) container[name] = filterValue(value, (k) => wanted.has(k));
      const excluded = subs.excluded.get(key);
      if (excluded) container[name] = filterValue(container[name], (k) => !excluded.has(k));
    }
  };
  const copy = { ...resource };
  apply(copy, coreSchema.toLowerCase());
  for (const [key, value] of Object.entries(copy)) {
    if (key.startsWith('urn:') && value && typeof value === 'object' && !Array.isArray(value)) {
      const inner = { ...(value as Record<string, unknown>) };
      apply(inner, key.toLowerCase());
      copy[key] = inner;
    }
  }
  return copy;
}

/**
 * References between resources (a user's groups and manager, a group's members): DNs in the
 * directory, {value: id, $ref, display} in SCIM. Reading resolves DNs to ids (through the
 * reference cache); writing resolves ids to DNs, one search per referenced type and batch.
 */

import { isUnder } from '../../lib/dn.ts';
import type { CompiledResourceType, CompiledRule } from '../../mapping/compiled.ts';
import {
  entryId,
  type ReferenceValue,
  readsForward,
  referenceIds,
  type ScimObject,
  valueText,
} from '../../mapping/convert.ts';
import { simplify, translateFilter } from '../../mapping/filter.ts';
import type { DirEntry, DirFilter } from '../../ports/directory.ts';
import { NotFoundError } from '../../ports/errors.ts';
import { ScimError } from '../../scim/errors.ts';
import type { CachedReference } from '../reference-cache.ts';
import {
  type RequestContext,
  resourceTypeNamed,
  resourceTypesNamed,
  type ServiceContext,
  searchAll,
  searchIn,
} from './context.ts';

/** Ids are looked up this many per search (an OR of equality filters). */
const ID_BATCH = 200;

/** What an entry read with referenceAttributes() is as a reference: its type, id and display. */
export function referenceOf(target: CompiledResourceType, entry: DirEntry): CachedReference | undefined {
  const id = entryId(target, entry);
  if (!id) return undefined;
  const displayRule = displayRuleOf(target);
  const display = displayRule ? entry.attributes[displayRule.ldapKey]?.[0] : undefined;
  return { resourceType: target.name, id, ...(display !== undefined ? { display: valueText(display) } : {}) };
}

/** The attributes referenceOf() needs. */
export function referenceAttributes(target: CompiledResourceType): string[] {
  const displayRule = displayRuleOf(target);
  return [target.directory.idAttribute, ...(displayRule ? [displayRule.ldap] : [])];
}

function displayRuleOf(rt: CompiledResourceType): CompiledRule | undefined {
  return (
    rt.rules.find((r) => r.isCore && r.attribute === 'displayName') ??
    rt.rules.find((r) => r.isCore && r.attribute === 'userName')
  );
}

/**
 * Visits the entries of `target` whose back-link (memberOf, the rule's `reverse`) names the
 * group: its members read from their side, one search, paged when large, never the group's
 * whole member attribute. Each entry is reduced by `visit` as it arrives, so a 100,000-member
 * group never has its member entries in memory all at once.
 */
export async function eachBackLinked(
  svc: ServiceContext,
  target: CompiledResourceType,
  rule: CompiledRule,
  groupDn: string,
  visit: (entry: DirEntry) => void,
): Promise<void> {
  const filter: DirFilter = { type: 'equal', attribute: rule.reverse ?? '', value: groupDn };
  await searchAll(svc, target, filter, referenceAttributes(target), visit);
}

/** Resolves the DNs a reference rule holds into {value: id, $ref, display, type}. */
export async function readReferences(
  svc: ServiceContext,
  rule: CompiledRule,
  entry: DirEntry,
  ctx: RequestContext,
): Promise<ReferenceValue[]> {
  const targets = resourceTypesNamed(svc, rule.references ?? []);
  const toValue = (target: CompiledResourceType, ref: CachedReference): ReferenceValue => ({
    value: ref.id,
    $ref: `${ctx.baseUrl}${target.endpoint}/${encodeURIComponent(ref.id)}`,
    ...(ref.display !== undefined ? { display: ref.display } : {}),
    ...(rule.attribute === 'members' ? { type: target.name } : {}),
  });
  const out: ReferenceValue[] = [];
  if (!readsForward(rule)) {
    for (const target of targets) {
      await eachBackLinked(svc, target, rule, entry.dn, (member) => {
        const ref = referenceOf(target, member);
        if (ref) out.push(toValue(target, ref));
      });
    }
    return out;
  }
  // Few DNs held by the entry itself (memberOf, manager): resolve each through the cache.
  const dns = (entry.attributes[rule.ldapKey] ?? []).map(valueText);
  const resolved = await Promise.all(dns.map((dn) => resolveReferenceDn(svc, dn, targets)));
  for (const ref of resolved) {
    const target = ref && targets.find((t) => t.name === ref.resourceType);
    if (ref && target) out.push(toValue(target, ref));
  }
  return out;
}

async function resolveReferenceDn(
  svc: ServiceContext,
  dn: string,
  targets: CompiledResourceType[],
): Promise<CachedReference | null> {
  const cached = svc.references.get(dn);
  if (cached !== undefined && (cached === null || targets.some((t) => t.name === cached.resourceType)))
    return cached;
  let found: CachedReference | null = null;
  for (const target of targets) {
    if (!isUnder(dn, target.directory.base)) continue;
    // A base-scope search with the type's scope filter: the directory decides membership of the type.
    const result = await svc.directory
      .search({
        base: dn,
        scope: 'base',
        filter: target.directory.scopeFilter,
        attributes: referenceAttributes(target),
        binaryAttributes: target.directory.binaryAttributes,
        sizeLimit: 1,
      })
      .catch((error: unknown) => {
        if (error instanceof NotFoundError) return { entries: [] };
        throw error;
      });
    const ref = result.entries[0] && referenceOf(target, result.entries[0]);
    if (ref) {
      found = ref;
      break;
    }
  }
  svc.references.set(dn, found);
  return found;
}

/** ids of every writable reference rule -> DNs; unknown ids are a client error naming them. */
export async function resolveReferenceIds(
  svc: ServiceContext,
  rt: CompiledResourceType,
  resource: ScimObject,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const [key, ids] of referenceIds(rt, resource)) {
    const rule = rt.rules.find((r) => r.key === key);
    if (!rule) continue;
    out.set(key, await idsToDns(svc, rule, ids));
  }
  return out;
}

export async function idsToDns(svc: ServiceContext, rule: CompiledRule, ids: string[]): Promise<string[]> {
  const found = await lookupIds(svc, rule.references ?? [], ids);
  const missing = ids.filter((id) => !found.has(id.toLowerCase()));
  if (missing.length > 0 && !rule.ignoreUnresolved) throw unknownIds(rule.key, rule, missing);
  return [...new Set(ids.flatMap((id) => found.get(id.toLowerCase())?.dn ?? []))];
}

/** Ids an error detail lists before it says how many more there are (a detail stays one short line). */
const IDS_LISTED = 10;

/** 400 naming the ids no resource of the rule's types has: the first few, and how many more. */
export function unknownIds(label: string, rule: CompiledRule, missing: string[]): ScimError {
  const listed = missing
    .slice(0, IDS_LISTED)
    .map((m) => `"${m.length > 64 ? `${m.slice(0, 64)}…` : m}"`)
    .join(', ');
  const more = missing.length > IDS_LISTED ? ` and ${missing.length - IDS_LISTED} more` : '';
  return ScimError.invalidValue(
    `${label}: no ${(rule.references ?? []).join(' or ')} with id ${listed}${more}`,
  );
}

/** One search per referenced resource type for a batch of ids; returns id -> entry (with memberOf when asked). */
export async function lookupIds(
  svc: ServiceContext,
  typeNames: string[],
  ids: string[],
  extraAttributes: string[] = [],
): Promise<Map<string, DirEntry>> {
  const found = new Map<string, DirEntry>();
  const unique = [...new Set(ids.map((i) => i.toLowerCase()))];
  for (const name of typeNames) {
    const target = resourceTypeNamed(svc, name);
    if (!target) continue;
    // The display attribute is read too, so that what goes into the reference cache is whole:
    // a later read of memberOf (user.groups) takes display from there.
    for (let i = 0; i < unique.length; i += ID_BATCH) {
      const batch = unique.slice(i, i + ID_BATCH).filter((id) => !found.has(id));
      const idFilter = await idsFilter(target, batch);
      if (idFilter.type === 'false') continue;
      const result = await searchIn(
        svc,
        target,
        idFilter,
        [...referenceAttributes(target), ...extraAttributes],
        {
          sizeLimit: batch.length + 1,
        },
      );
      for (const entry of result.entries) {
        const ref = referenceOf(target, entry);
        if (ref) {
          found.set(ref.id, entry);
          svc.references.set(entry.dn, ref);
        }
      }
    }
  }
  return found;
}

/** `id eq a or id eq b ...` for `target`, in LDAP. */
async function idsFilter(target: CompiledResourceType, ids: string[]): Promise<DirFilter> {
  const filters: DirFilter[] = [];
  for (const id of ids) {
    filters.push(
      await translateFilter(
        target,
        { type: 'compare', path: { attribute: 'id' }, operator: 'eq', value: id },
        { resolveId: async () => undefined },
      ),
    );
  }
  return simplify({ type: 'or', filters });
}

/** The DN of the resource with this id among `types` (filters on reference attributes). */
export async function resolveDn(
  svc: ServiceContext,
  types: string[],
  id: string,
): Promise<string | undefined> {
  return (await lookupIds(svc, types, [id])).get(id.toLowerCase())?.dn;
}

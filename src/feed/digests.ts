/**
 * What a downstream service was last told about an entry, as a digest per SCIM attribute
 * (docs/architecture.md §Change feed): reconciliation compares the directory with these and
 * publishes exactly the differences, naming the attributes that differ. Digests, never values:
 * Redis holds no copy of the directory (and no secret).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type CompiledResourceType, type CompiledRule, rulePathName } from '../mapping/compiled.ts';
import { readsForward, valueText } from '../mapping/convert.ts';
import type { DirEntry } from '../ports/directory.ts';
import { feedKeys } from './lease.ts';

export type AttributeDigests = Record<string, string>;

/**
 * The rules a digest covers: what the entry itself stores and a client can write (a group's member
 * list included, although the bridge reads it through the back-links), not a reverse read-only
 * view (a user's groups: a change there is a group's member change).
 */
function digested(rule: CompiledRule): boolean {
  if (rule.leafDefinition.returned === 'never') return false;
  return (readsForward(rule) && !rule.reverse) || (rule.references !== undefined && !rule.readOnly);
}

/** The LDAP attributes the digests read. */
export function digestAttributes(rt: CompiledResourceType): string[] {
  const names = new Set<string>([rt.directory.idAttribute]);
  for (const rule of rt.rules) if (digested(rule)) names.add(rule.ldap);
  return [...names];
}

/**
 * One short digest per SCIM attribute name, over the sorted LDAP values of the rules that feed it
 * (a member list compares as a set of DNs). Values a secret never leaves: `returned: never` rules
 * (passwords) are not digested, as they are never sent either.
 */
export function attributeDigests(rt: CompiledResourceType, entry: DirEntry): AttributeDigests {
  const byName = new Map<string, string[]>();
  for (const rule of rt.rules) {
    if (!digested(rule)) continue;
    const values = entry.attributes[rule.ldapKey];
    if (!values || values.length === 0) continue;
    // A reference list is one attribute to SCIM (`members`), as membership events name it.
    const name = rule.references
      ? rulePathName({ ...rule, subAttribute: undefined } as CompiledRule)
      : rulePathName(rule);
    const texts = values.map((v) => (rule.references ? valueText(v).toLowerCase() : valueText(v)));
    byName.set(name, [...(byName.get(name) ?? []), `${rule.ldapKey}\u0000${texts.sort().join('\u0001')}`]);
  }
  const digests: AttributeDigests = {};
  for (const [name, parts] of [...byName].sort(([a], [b]) => a.localeCompare(b)))
    digests[name] = createHash('sha256').update(parts.sort().join('\u0002')).digest('base64url').slice(0, 12);
  return digests;
}

/** The names whose digests differ (present in one and not the other included), sorted. */
export function changedNames(before: AttributeDigests, after: AttributeDigests): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => before[name] !== after[name]).sort();
}

export function digestField(resourceType: string, id: string): string {
  return `${resourceType}:${id}`;
}

/** Parses a stored digest record; a malformed one counts as unknown (the entry is told again). */
export function parseDigests(text: string | null | undefined): AttributeDigests | undefined {
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    const entries = Object.entries(parsed as Record<string, unknown>);
    return entries.every(([, v]) => typeof v === 'string') ? (parsed as AttributeDigests) : undefined;
  } catch {
    return undefined;
  }
}

/** Records what every service has now been told about entries (or forgets deleted ones). */
export async function storeDigests(
  redis: Redis,
  keyPrefix: string,
  services: readonly string[],
  updates: readonly { field: string; digests: AttributeDigests | undefined }[],
): Promise<void> {
  if (updates.length === 0 || services.length === 0) return;
  const keys = feedKeys(keyPrefix);
  const multi = redis.multi();
  for (const service of services)
    for (const { field, digests } of updates) {
      if (digests === undefined) multi.hdel(keys.digests(service), field);
      else multi.hset(keys.digests(service), field, JSON.stringify(digests));
    }
  await multi.exec();
}

/**
 * From the LDAP attribute values a resource maps to (convert.ts `resourceToAttributes`) to what the
 * directory is asked to do: the attributes of an add, or the changes of ONE modify.
 */
import type { DirChange, DirEntry, DirValue } from '../ports/directory.ts';
import type { CompiledResourceType } from './compiled.ts';
import { type AttributeValues, valueText } from './convert.ts';

/** Attributes for a new entry: mapped values plus object classes. */
export function attributesForAdd(
  rt: CompiledResourceType,
  mapped: AttributeValues,
): Record<string, DirValue[]> {
  const attributes: Record<string, DirValue[]> = { objectClass: rt.directory.objectClasses };
  for (const { ldap, values } of mapped.values()) attributes[ldap] = values;
  return attributes;
}

/**
 * The changes that turn `entry` into `desired` for the attributes this mapping writes, as ONE
 * modify: only attributes that differ. The RDN attribute is excluded (a rename changes it);
 * write-only attributes and attributes with a default are kept when the client did not send them
 * (PUT without a password must not erase it; Okta's PUT without `active` must not disable).
 */
export function changesForReplace(
  rt: CompiledResourceType,
  entry: DirEntry,
  desired: AttributeValues,
  options: { keepWhenAbsent?: ReadonlySet<string> } = {},
): DirChange[] {
  const changes: DirChange[] = [];
  const considered = new Map<string, { ldap: string; keepWhenAbsent: boolean }>();
  for (const rule of rt.rules) {
    if (rule.readOnly) continue;
    const keep =
      rule.leafDefinition.mutability === 'writeOnly' ||
      rule.defaultValue !== undefined ||
      (options.keepWhenAbsent?.has(rule.ldapKey) ?? false);
    considered.set(rule.ldapKey, {
      ldap: rule.ldap,
      keepWhenAbsent: keep || (considered.get(rule.ldapKey)?.keepWhenAbsent ?? false),
    });
  }
  for (const computed of rt.directory.computed) {
    if (!considered.has(computed.ldapKey))
      considered.set(computed.ldapKey, { ldap: computed.ldap, keepWhenAbsent: true });
  }
  // The fallbacks recorded for the entry as it was go when the new state has none (fallbacks.ts).
  const marker = rt.directory.fallbackMarker;
  if (marker) considered.set(marker.toLowerCase(), { ldap: marker, keepWhenAbsent: false });
  const rdnKey = rt.directory.rdnAttribute.toLowerCase();
  for (const [key, { ldap, keepWhenAbsent }] of considered) {
    if (key === rdnKey) continue;
    const current = (entry.attributes[key] ?? []).map(valueText);
    const wanted = desired.get(key)?.values ?? [];
    if (wanted.length === 0) {
      if (
        current.length > 0 &&
        !keepWhenAbsent &&
        !rt.rules.some((r) => r.ldapKey === key && r.leafDefinition.required)
      ) {
        changes.push({ operation: 'delete', attribute: ldap, values: [] });
      }
      continue;
    }
    if (key === 'userpassword' || !sameValues(current, wanted)) {
      changes.push({ operation: 'replace', attribute: ldap, values: wanted });
    }
  }
  return withMissingObjectClasses(rt, entry, changes);
}

/** An existing entry may lack an auxiliary class the mapping needs (scimResource): add it in the same modify. */
export function withMissingObjectClasses(
  rt: CompiledResourceType,
  entry: DirEntry,
  changes: DirChange[],
): DirChange[] {
  if (!changes.some((c) => c.operation !== 'delete')) return changes;
  const have = new Set((entry.attributes.objectclass ?? []).map((v) => valueText(v).toLowerCase()));
  if (have.size === 0) return changes;
  const missing = rt.directory.objectClasses.filter((oc) => !have.has(oc.toLowerCase()));
  return missing.length > 0
    ? [{ operation: 'add', attribute: 'objectClass', values: missing }, ...changes]
    : changes;
}

function sameValues(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((v) => set.has(v));
}

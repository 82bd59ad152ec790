/**
 * The core `active` attribute as the write use cases need it: whether the mapping can set it, and
 * the one LDAP change that sets it (sagas hold new entries disabled; deleteMode "disable").
 */
import type { CompiledResourceType, CompiledRule } from '../../mapping/compiled.ts';
import { entryToResource, resourceToAttributes } from '../../mapping/convert.ts';
import type { DirChange, DirEntry } from '../../ports/directory.ts';

/** The writable rule that maps the core `active` attribute, when the mapping has one. */
export function activeRuleOf(rt: CompiledResourceType): CompiledRule | undefined {
  return rt.rules.find((r) => r.isCore && r.attribute === 'active' && !r.readOnly);
}

/**
 * The one LDAP change that sets `active` on an entry, through the mapping's transform (AD: the
 * ACCOUNTDISABLE bit merged into the entry's userAccountControl); undefined when the mapping has
 * no writable `active` or the transform yields no value.
 */
export function activeChange(
  rt: CompiledResourceType,
  entry: DirEntry,
  active: boolean,
): { rule: CompiledRule; change: DirChange } | undefined {
  const rule = activeRuleOf(rt);
  if (!rule) return undefined;
  const current = entryToResource(rt, entry, {
    location: '',
    references: new Map(),
    rules: rt.rules.filter((r) => !r.references),
  });
  const desired = resourceToAttributes(rt, { ...current, active }, new Map(), 'replace', entry);
  const values = desired.get(rule.ldapKey)?.values ?? [];
  return values.length > 0
    ? { rule, change: { operation: 'replace', attribute: rule.ldap, values } }
    : undefined;
}

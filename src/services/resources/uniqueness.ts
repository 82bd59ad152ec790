/**
 * Uniqueness (RFC 7643 §2.2 "uniqueness": server): checked by a directory search before a write,
 * for the values that are new to the entry.
 */

import { sameDn } from '../../lib/dn.ts';
import type { CompiledResourceType } from '../../mapping/compiled.ts';
import { resourceToAttributes, type ScimObject, valueText } from '../../mapping/convert.ts';
import type { DirEntry } from '../../ports/directory.ts';
import { ScimError } from '../../scim/errors.ts';
import { type ServiceContext, searchIn } from './context.ts';

/** 409 uniqueness when another entry of `rt` holds a value `resource` would set; `current` is the entry written. */
export async function checkUniqueness(
  svc: ServiceContext,
  rt: CompiledResourceType,
  resource: ScimObject,
  current: DirEntry | undefined,
): Promise<void> {
  const ownDn = current?.dn;
  for (const rule of rt.rules) {
    if (rule.leafDefinition.uniqueness === 'none' || rule.readOnly) continue;
    const mapped = resourceToAttributes(rt, resource, new Map(), 'replace').get(rule.ldapKey);
    const value = mapped?.values[0];
    if (value === undefined) continue;
    // A value the entry already holds cannot create a duplicate.
    if ((current?.attributes[rule.ldapKey] ?? []).some((v) => valueText(v) === value)) continue;
    const result = await searchIn(svc, rt, { type: 'equal', attribute: rule.ldap, value }, [], {
      sizeLimit: 2,
    });
    if (result.entries.some((e) => ownDn === undefined || !sameDn(e.dn, ownDn))) {
      throw ScimError.uniqueness(`${rule.key} "${String(value)}" is already taken by another ${rt.name}`);
    }
  }
}

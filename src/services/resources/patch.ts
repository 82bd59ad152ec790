/**
 * PATCH (RFC 7644 §3.5.2), going down the layers once: the operations are parsed
 * (scim/patch-request), member operations split off as id deltas (membership), the rest applied
 * to the current resource (mapping -> scim/patch -> mapping), and everything written as one
 * modify (docs/architecture.md §PATCH call path).
 */

import { changesForReplace } from '../../mapping/changes.ts';
import type { CompiledResourceType, CompiledRule } from '../../mapping/compiled.ts';
import { membershipRule } from '../../mapping/compiled.ts';
import {
  allReadAttributes,
  entryToResource,
  type ReferenceValue,
  resourceToAttributes,
  type ScimObject,
} from '../../mapping/convert.ts';
import type { DirChange, DirEntry } from '../../ports/directory.ts';
import { applyPatchYielding } from '../../scim/patch.ts';
import { type PatchOperation, parsePatchRequestYielding } from '../../scim/patch-request.ts';
import {
  guard,
  type Precondition,
  type RequestContext,
  type ResourceResult,
  type ResponseShape,
  requireById,
  type ServiceContext,
  shapeOf,
} from './context.ts';
import { memberPatchChanges, splitMemberOperations } from './membership.ts';
import { checkPrecondition } from './preconditions.ts';
import { readReferences, resolveReferenceIds } from './references.ts';
import { checkUniqueness } from './uniqueness.ts';
import { writeChanges } from './write.ts';

export interface PatchRequest {
  resourceType: CompiledResourceType;
  id: string;
  body: unknown;
  precondition: Precondition;
  response?: ResponseShape;
  ctx: RequestContext;
}

export function patchResource(svc: ServiceContext, request: PatchRequest): Promise<ResourceResult> {
  const { resourceType: rt, id, body, precondition, ctx } = request;
  return guard(rt, async () => {
    const memberRule = membershipRule(rt);
    const operations = await parsePatchRequestYielding(body, shapeOf(rt), {
      ...(svc.limits.patchMaxOperations ? { maxOperations: svc.limits.patchMaxOperations } : {}),
    });
    const delta = splitMemberOperations(memberRule, operations);
    const entry = await requireById(svc, rt, id, allReadAttributes(rt));
    checkPrecondition(rt, entry, precondition);
    let changes: DirChange[] = [];
    let resource: ScimObject | undefined;
    if (delta.other.length > 0) {
      resource = await patchedResource(svc, rt, entry, delta.other, { memberRule, ctx });
      changes = await changesToPatched(svc, rt, entry, resource, memberRule);
    }
    if (memberRule) changes.push(...(await memberPatchChanges(svc, rt, entry, memberRule, delta)));
    return writeChanges(svc, {
      resourceType: rt,
      entry,
      resource,
      changes,
      precondition,
      ctx,
      response: request.response ?? {},
    });
  });
}

/**
 * The resource after the operations: applied to the full current resource, references included
 * except membership (a delta, never read whole); 409 if it would take a unique value.
 */
async function patchedResource(
  svc: ServiceContext,
  rt: CompiledResourceType,
  entry: DirEntry,
  operations: PatchOperation[],
  options: { memberRule: CompiledRule | undefined; ctx: RequestContext },
): Promise<ScimObject> {
  const { memberRule, ctx } = options;
  const references = new Map<string, ReferenceValue[]>();
  for (const rule of rt.rules) {
    if (rule.references && !rule.readOnly && rule !== memberRule) {
      references.set(rule.key, await readReferences(svc, rule, entry, ctx));
    }
  }
  const current = entryToResource(rt, entry, {
    location: '',
    references,
    rules: rt.rules.filter((r) => r !== memberRule),
  });
  const patched = await applyPatchYielding(current, operations, shapeOf(rt));
  await checkUniqueness(svc, rt, patched, entry);
  return patched;
}

/** The modify that turns the entry into the patched resource (membership left to its delta). */
async function changesToPatched(
  svc: ServiceContext,
  rt: CompiledResourceType,
  entry: DirEntry,
  patched: ScimObject,
  memberRule: CompiledRule | undefined,
): Promise<DirChange[]> {
  const desired = resourceToAttributes(rt, patched, new Map(), 'replace', entry);
  // Reference attributes other than membership are patched through the full resource.
  const refs = await resolveReferenceIds(svc, rt, patched);
  for (const rule of rt.rules) {
    if (!rule.references || rule.readOnly || rule === memberRule) continue;
    const dns = refs.get(rule.key);
    if (dns && dns.length > 0) desired.set(rule.ldapKey, { ldap: rule.ldap, values: dns });
  }
  return changesForReplace(rt, entry, desired, {
    keepWhenAbsent: new Set(memberRule ? [memberRule.ldapKey] : []),
  });
}

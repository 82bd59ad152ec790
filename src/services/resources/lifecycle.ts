/**
 * The end and the start of a resource's life: DELETE (or AD's disable-instead-of-delete), the
 * settling of a provisioning saga, and the probe the journal's recovery asks whether a write
 * happened (docs/architecture.md §Writes and events).
 */
import type { CompiledResourceType } from '../../mapping/compiled.ts';
import { rulePathName } from '../../mapping/compiled.ts';
import { allReadAttributes, entryId, entryVersionText } from '../../mapping/convert.ts';
import type { DirEntry } from '../../ports/directory.ts';
import type { ChangeIntent, SagaOutcome } from '../../ports/events.ts';
import { ScimError } from '../../scim/errors.ts';
import { activeChange, activeRuleOf } from './active.ts';
import {
  findById,
  guard,
  type Precondition,
  type RequestContext,
  requireById,
  resourceTypeNamed,
  type ServiceContext,
} from './context.ts';
import { eventOf, journaled, versionBefore } from './events.ts';
import { removeFromEveryGroup } from './membership.ts';
import { assertionFor, checkPrecondition } from './preconditions.ts';
import { writeChanges } from './write.ts';

export interface DeleteRequest {
  resourceType: CompiledResourceType;
  id: string;
  precondition: Precondition;
  ctx: RequestContext;
}

export function deleteResource(svc: ServiceContext, request: DeleteRequest): Promise<void> {
  const { resourceType: rt, id, precondition, ctx } = request;
  return guard(rt, async () => {
    if (rt.directory.deleteMode === 'disable') {
      await disableInsteadOfDelete(svc, request);
      return;
    }
    const { idAttribute, versionAttribute } = rt.directory;
    const entry = await requireById(svc, rt, id, [idAttribute, versionAttribute]);
    checkPrecondition(rt, entry, precondition);
    const resourceId = entryId(rt, entry) ?? id;
    const intent: ChangeIntent = {
      operation: 'delete',
      dn: entry.dn,
      ...versionBefore(rt, entry),
      resourceId,
      resourceType: rt.name,
      actor: ctx.actor,
      events: [eventOf(rt, 'deleted', [], ctx)],
    };
    await journaled(
      svc,
      intent,
      () => svc.directory.delete(entry.dn, assertionFor(rt, entry, precondition)),
      () => ({ resourceId }),
    );
    svc.references.forget(entry.dn);
  });
}

/**
 * deleteMode "disable" (common for Active Directory, where accounts are kept for audit): the
 * entry stays, `active` becomes false through the mapping (other userAccountControl bits kept),
 * and its group memberships are removed, one value delete per group.
 */
async function disableInsteadOfDelete(svc: ServiceContext, request: DeleteRequest): Promise<void> {
  const { resourceType: rt, id, precondition, ctx } = request;
  const entry = await requireById(svc, rt, id, allReadAttributes(rt));
  checkPrecondition(rt, entry, precondition);
  if (!activeRuleOf(rt)) throw ScimError.internal('deleteMode "disable" without a mapping of active');
  const change = activeChange(rt, entry, false);
  if (change) {
    await writeChanges(svc, { resourceType: rt, entry, changes: [change.change], precondition, ctx });
  }
  const userId = entryId(rt, entry);
  if (userId) svc.references.set(entry.dn, { resourceType: rt.name, id: userId });
  await removeFromEveryGroup(svc, rt, entry.dn, (groupType, group, changes) =>
    writeChanges(svc, { resourceType: groupType, entry: group, changes, precondition: {}, ctx }),
  );
}

/**
 * Applies a finished provisioning saga: enable the entry held disabled (when the client asked
 * for an active resource), or compensate after a required service refused it for good — keep it
 * disabled, or delete it — and record a provisioning_failed event either way. An entry the
 * client deleted meanwhile is left alone.
 */
export async function settleProvisioning(
  svc: ServiceContext,
  outcome: SagaOutcome,
  compensation: 'disable' | 'delete',
): Promise<void> {
  const rt = resourceTypeNamed(svc, outcome.resourceType);
  if (!rt) return;
  const ctx: RequestContext = { baseUrl: '', actor: `saga:${outcome.services.join(',')}` };
  const entry = await findById(svc, rt, outcome.resourceId, allReadAttributes(rt));
  if (!entry) return;
  if (outcome.outcome === 'confirmed') await activate(svc, rt, entry, outcome, ctx);
  else await compensate(svc, rt, entry, { outcome, compensation, ctx });
}

async function activate(
  svc: ServiceContext,
  rt: CompiledResourceType,
  entry: DirEntry,
  outcome: SagaOutcome,
  ctx: RequestContext,
): Promise<void> {
  if (!outcome.activate) return;
  const activation = activeChange(rt, entry, true);
  if (!activation) return;
  const intent: ChangeIntent = {
    operation: 'modify',
    dn: entry.dn,
    ...versionBefore(rt, entry),
    resourceId: outcome.resourceId,
    resourceType: rt.name,
    actor: ctx.actor,
    events: [eventOf(rt, 'activated', [rulePathName(activation.rule)], ctx)],
  };
  await journaled(
    svc,
    intent,
    () => svc.directory.modify(entry.dn, [activation.change]),
    () => ({ resourceId: outcome.resourceId }),
  );
}

async function compensate(
  svc: ServiceContext,
  rt: CompiledResourceType,
  entry: DirEntry,
  settle: { outcome: SagaOutcome; compensation: 'disable' | 'delete'; ctx: RequestContext },
): Promise<void> {
  const { outcome, compensation, ctx } = settle;
  const deletes = compensation === 'delete';
  const failed: ChangeIntent = {
    operation: deletes ? 'delete' : 'modify',
    dn: entry.dn,
    ...versionBefore(rt, entry),
    resourceId: outcome.resourceId,
    resourceType: rt.name,
    actor: ctx.actor,
    events: [
      {
        ...eventOf(rt, 'provisioning_failed', [], ctx),
        ...(outcome.reason ? { changedAttributes: [`reason: ${outcome.reason}`] } : {}),
      },
      ...(deletes ? [eventOf(rt, 'deleted', [], ctx)] : []),
    ],
  };
  await journaled(
    svc,
    failed,
    async () => {
      if (deletes) await svc.directory.delete(entry.dn);
    },
    () => ({ resourceId: outcome.resourceId }),
  );
  if (deletes) svc.references.forget(entry.dn);
}

/**
 * What the journal's recovery asks of an entry it finds at a DN: its id and version, to tell
 * whether a journaled write happened. undefined: no such entry (or no such resource type).
 */
export async function probeEntry(
  svc: ServiceContext,
  resourceType: string,
  dn: string,
): Promise<{ id: string; version?: string } | undefined> {
  const rt = resourceTypeNamed(svc, resourceType);
  if (!rt) return undefined;
  const { idAttribute, versionAttribute, binaryAttributes } = rt.directory;
  const entry = await svc.directory.read(dn, [idAttribute, versionAttribute], binaryAttributes);
  if (!entry) return undefined;
  const version = entryVersionText(rt, entry);
  return { id: entryId(rt, entry) ?? '', ...(version !== undefined ? { version } : {}) };
}

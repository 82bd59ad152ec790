/**
 * Change events (docs/architecture.md §Writes and events): what a write tells the journal, and
 * the journaled write itself — the intent recorded before the directory write, committed or
 * aborted after it.
 */
import { randomUUID } from 'node:crypto';
import { DeadlineExceededError } from '../../lib/deadline.ts';
import {
  type CompiledResourceType,
  type CompiledRule,
  membershipRule,
  rulePathName,
} from '../../mapping/compiled.ts';
import { entryVersionText, type ScimObject, valuesForRule, valueText } from '../../mapping/convert.ts';
import type { DirChange, DirEntry } from '../../ports/directory.ts';
import { UnavailableError } from '../../ports/errors.ts';
import type { ChangeEvent, ChangeEventType, ChangeIntent } from '../../ports/events.ts';
import type { RequestContext, ServiceContext } from './context.ts';

export type PendingEvent = Omit<ChangeEvent, 'timestamp' | 'resourceId'>;

export function eventOf(
  rt: CompiledResourceType,
  change: ChangeEventType,
  changedAttributes: string[],
  ctx: RequestContext,
): PendingEvent {
  return {
    eventId: randomUUID(),
    type: `${rt.name.toLowerCase()}.${change}`,
    change,
    resourceType: rt.name,
    changedAttributes,
    actor: ctx.actor,
    origin: 'scim',
  };
}

/** The SCIM attribute names a new resource sets (names only; secrets are named, never valued). */
export function presentAttributes(rt: CompiledResourceType, resource: ScimObject): string[] {
  const names = new Set<string>();
  for (const rule of rt.rules) {
    if (!rule.readOnly && valuesForRule(resource, rule).length > 0) names.add(rulePathName(rule));
  }
  return [...names];
}

// The one definition lives with the compiled mapping (the change feed names attributes the same way).

/** The intent's versionBefore: what recovery compares the directory's version with. */
export function versionBefore(rt: CompiledResourceType, entry: DirEntry): { versionBefore?: string } {
  const version = entryVersionText(rt, entry);
  return version === undefined ? {} : { versionBefore: version };
}

/**
 * Runs a directory write inside the change journal: the intent is recorded first, so a crash
 * between the write and the publish loses no event (docs/architecture.md §Writes and events). A
 * write refused by the directory aborts the intent; one whose outcome is unknown keeps it for the
 * journal's recovery to settle against the directory.
 */
export async function journaled<T>(
  svc: ServiceContext,
  intent: ChangeIntent,
  write: () => Promise<T>,
  outcome: (result: T) => { resourceId: string; version?: string },
): Promise<T> {
  const journal = svc.journal;
  if (!journal || intent.events.length === 0) return write();
  const { idempotency } = svc;
  const handle = await journal.begin(idempotency ? { ...intent, idempotency } : intent);
  let result: T;
  try {
    result = await write();
  } catch (error) {
    // Cut off by the deadline before it was sent: certainly not performed.
    const notSent = error instanceof DeadlineExceededError && !error.requestSent;
    const unknown = error instanceof UnavailableError || error instanceof DeadlineExceededError;
    if (notSent || !unknown) await handle.abort().catch(() => undefined);
    throw error;
  }
  // The write is done and acknowledged either way; a failed commit is settled by recovery.
  await handle.commit(outcome(result)).catch(() => undefined);
  return result;
}

/** Events for a modify: what changed (attribute names only), deactivation, membership deltas. */
export function changeEvents(
  svc: ServiceContext,
  rt: CompiledResourceType,
  changes: DirChange[],
  renamed: boolean,
  ctx: RequestContext,
): PendingEvent[] {
  const memberRule = membershipRule(rt);
  const attributeNames = new Set<string>();
  const added: string[] = [];
  const removed: string[] = [];
  let deactivated = false;
  for (const change of changes) {
    const key = change.attribute.toLowerCase();
    if (key === 'objectclass') continue;
    if (memberRule && key === memberRule.ldapKey) {
      const ids = memberIdsOf(svc, change);
      if (change.operation === 'add') added.push(...ids);
      else if (change.operation === 'delete') removed.push(...ids);
      continue;
    }
    for (const rule of rt.rules) {
      if (rule.ldapKey !== key) continue;
      attributeNames.add(rulePathName(rule));
      deactivated ||= setsInactive(rule, change);
    }
  }
  if (renamed) attributeNames.add(rt.directory.rdnPath);
  const events: PendingEvent[] = [];
  if (attributeNames.size > 0)
    events.push(eventOf(rt, deactivated ? 'deactivated' : 'updated', [...attributeNames], ctx));
  if (added.length > 0) events.push({ ...eventOf(rt, 'member_added', ['members'], ctx), memberIds: added });
  if (removed.length > 0)
    events.push({ ...eventOf(rt, 'member_removed', ['members'], ctx), memberIds: removed });
  return events;
}

/** The ids of the member DNs a change names, as the reference cache knows them. */
function memberIdsOf(svc: ServiceContext, change: DirChange): string[] {
  return change.values.flatMap((dn) => {
    const ref = svc.references.get(valueText(dn));
    return ref ? [ref.id] : [];
  });
}

function setsInactive(rule: CompiledRule, change: DirChange): boolean {
  if (rule.attribute !== 'active' || !rule.isCore) return false;
  const value = change.values[0];
  try {
    return value !== undefined && rule.transform.fromLdap(valueText(value)) === false;
  } catch {
    // not a boolean the mapping understands: an update, not a deactivation
    return false;
  }
}

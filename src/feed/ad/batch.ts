/**
 * One window of Active Directory changes turned into events (docs/architecture.md §Change feed):
 * per service, each changed entry against the digests that service was last told; then the
 * digests and the feed's own state (DN hash, member ids) recorded for the next window.
 */
import type { Redis } from 'ioredis';
import type { EventPublisher } from '../../jobs/publisher.ts';
import type { CompiledResourceType } from '../../mapping/compiled.ts';
import type { DirEntry } from '../../ports/directory.ts';
import type { ChangeEvent } from '../../ports/events.ts';
import { reqStartIso } from '../accesslog.ts';
import { type AttributeDigests, digestField, parseDigests, storeDigests } from '../digests.ts';
import { feedKeys } from '../lease.ts';
import { type AdEntryState, type AdPendingChange, adEventId, dnHash, entryChanges } from './changes.ts';

/** One change read from the DC: a live entry (as it stands) or a tombstone. */
export type AdChange =
  | {
      kind: 'entry';
      rt: CompiledResourceType;
      id: string;
      usn: number;
      entry: DirEntry;
      created: boolean;
      digests: AttributeDigests;
      memberIds?: string[];
      whenChanged?: string;
    }
  | { kind: 'tombstone'; rt: CompiledResourceType; id: string; usn: number; whenChanged?: string };

/** The actor of a directory change: AD does not record who made it. */
export const AD_ACTOR = 'directory (Active Directory records no author)';

export function adStateKey(keyPrefix: string): string {
  return `${keyPrefix}feed:ad:state`;
}

/**
 * The groups (digest fields) whose kept member ids hold `memberId`: deleting an object removes it
 * from its groups without moving their uSNChanged (measured on Samba AD), so the feed looks here.
 */
export function adMemberOfKey(keyPrefix: string, memberId: string): string {
  return `${keyPrefix}feed:ad:memberof:${memberId}`;
}

function parseState(text: string | null | undefined): AdEntryState | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as AdEntryState;
    return typeof parsed?.dn === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function timestampOf(whenChanged: string | undefined): string {
  try {
    if (whenChanged) return reqStartIso(whenChanged);
  } catch {
    // not a generalized time: the time the feed read it
  }
  return new Date().toISOString();
}

function toEvents(change: AdChange, pending: AdPendingChange[], invocationId: string): ChangeEvent[] {
  return pending.map((p, index) => ({
    eventId: adEventId(invocationId, change.usn, change.id, index, p),
    type: `${change.rt.name.toLowerCase()}.${p.change}`,
    change: p.change,
    resourceType: change.rt.name,
    resourceId: change.id,
    changedAttributes: p.changedAttributes,
    ...(p.memberIds ? { memberIds: p.memberIds } : {}),
    actor: AD_ACTOR,
    origin: 'directory' as const,
    timestamp: timestampOf(change.whenChanged),
  }));
}

export interface BatchContext {
  redis: Redis;
  keyPrefix: string;
  publisher: EventPublisher;
  invocationId: string;
  /** Order scores (µs) start here, so they keep increasing across windows. */
  firstScore: number;
}

/**
 * Publishes the events of the changes not marked own (per service, against its digests), then
 * records digests and state for all. Returns how many events each service was given, summed.
 */
export async function publishBatch(
  context: BatchContext,
  changes: readonly AdChange[],
  own: readonly boolean[],
): Promise<{ events: number; lastScore: number }> {
  const { redis, keyPrefix, publisher } = context;
  const fields = changes.map((c) => digestField(c.rt.name, c.id));
  const states = await keptStates(redis, keyPrefix, fields);
  let published = 0;
  let lastScore = context.firstScore;
  for (const service of publisher.services.map((s) => s.name)) {
    const told = fields.length > 0 ? await redis.hmget(feedKeys(keyPrefix).digests(service), ...fields) : [];
    const events: ChangeEvent[] = [];
    changes.forEach((change, i) => {
      if (own[i]) return;
      const pending =
        change.kind === 'tombstone'
          ? [{ change: 'deleted' as const, changedAttributes: [] }]
          : entryChanges(change, {
              ...(parseDigests(told[i]) ? { digests: parseDigests(told[i]) } : {}),
              ...(states[i] ? { state: states[i] } : {}),
            });
      events.push(...toEvents(change, pending, context.invocationId));
    });
    const scores = events.map((_, i) => context.firstScore + i);
    lastScore = Math.max(lastScore, scores.at(-1) ?? lastScore);
    await publisher.publish(events, { service, scores });
    published += events.length;
  }
  await recordSeen(context, changes, fields, states);
  return { events: published, lastScore };
}

/** What the next window compares with: digests for every service, the DN hash and member ids. */
async function recordSeen(
  context: BatchContext,
  changes: readonly AdChange[],
  fields: string[],
  states: readonly (AdEntryState | undefined)[],
) {
  const { redis, keyPrefix, publisher } = context;
  await storeDigests(
    redis,
    keyPrefix,
    publisher.services.map((s) => s.name),
    changes.map((c, i) => ({
      field: fields[i] as string,
      digests: c.kind === 'entry' ? c.digests : undefined,
    })),
  );
  await recordState(
    redis,
    keyPrefix,
    changes.map((change, i) => ({
      field: fields[i] as string,
      id: change.id,
      ...(change.kind === 'entry'
        ? { dn: change.entry.dn, ...(change.memberIds ? { memberIds: change.memberIds } : {}) }
        : {}),
    })),
    states,
  );
}

/** An entry as the feed keeps it: its DN and member ids as they stand; no DN: it is gone. */
export interface SeenEntry {
  field: string;
  id: string;
  dn?: string;
  memberIds?: string[];
}

/** The DN hash and member ids kept per entry, and the groups kept per member (`states`: as kept before). */
export async function recordState(
  redis: Redis,
  keyPrefix: string,
  seen: readonly SeenEntry[],
  states: readonly (AdEntryState | undefined)[],
): Promise<void> {
  if (seen.length === 0) return;
  const multi = redis.multi();
  seen.forEach((entry, i) => {
    const { field } = entry;
    const before = new Set(states[i]?.members ?? []);
    const after = new Set(entry.dn === undefined ? [] : (entry.memberIds ?? before));
    for (const id of after) if (!before.has(id)) multi.sadd(adMemberOfKey(keyPrefix, id), field);
    for (const id of before) if (!after.has(id)) multi.srem(adMemberOfKey(keyPrefix, id), field);
    if (entry.dn === undefined) {
      multi.hdel(adStateKey(keyPrefix), field);
      multi.del(adMemberOfKey(keyPrefix, entry.id));
    } else {
      const state: AdEntryState = {
        dn: dnHash(entry.dn),
        ...(entry.memberIds ? { members: entry.memberIds } : {}),
      };
      multi.hset(adStateKey(keyPrefix), field, JSON.stringify(state));
    }
  });
  await multi.exec();
}

/** The kept state of these entries (fields `type:id`). */
export async function keptStates(
  redis: Redis,
  keyPrefix: string,
  fields: readonly string[],
): Promise<(AdEntryState | undefined)[]> {
  return fields.length > 0 ? (await redis.hmget(adStateKey(keyPrefix), ...fields)).map(parseState) : [];
}

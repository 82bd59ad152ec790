/**
 * Reconciliation (docs/architecture.md §Change feed): the directory compared with what each
 * downstream service was last told (the per-entry digests), and exactly the differences published:
 * created (no digest), updated (digests differ, naming the attributes), deleted (a digest whose
 * entry the directory no longer holds). The directory is walked page by page and the ids seen go
 * to a Redis set, so neither the directory nor the digests are ever held in memory: this is the
 * disaster-recovery path after a restore, and it must work for any size.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { EventPublisher } from '../jobs/publisher.ts';
import type { CompiledResourceType, MappingSet } from '../mapping/compiled.ts';
import { entryId } from '../mapping/convert.ts';
import type { DirEntry } from '../ports/directory.ts';
import type { ChangeEvent, ChangeEventType } from '../ports/events.ts';
import {
  type AttributeDigests,
  attributeDigests,
  changedNames,
  digestAttributes,
  digestField,
  parseDigests,
} from './digests.ts';
import { feedKeys } from './lease.ts';
import type { FeedReader } from './reader.ts';

export interface ReconcileOptions {
  redis: Redis;
  keyPrefix: string;
  publisher: EventPublisher;
  reader: FeedReader;
  mappings: MappingSet;
  /** Services to reconcile (names from events.services). */
  services: readonly string[];
  /** Compute and report the differences; publish nothing, store nothing. */
  dryRun: boolean;
  /** Each difference as it is found (the CLI prints them). */
  onDifference?: (service: string, event: ChangeEvent) => void;
  /** Told of what the walk finds (not in a dry run): the AD feed refreshes the state it keeps. */
  observer?: ReconcileObserver;
}

/** An entry of the walk: its SCIM id and digest field (`type:id`). */
export interface WalkedEntry {
  id: string;
  field: string;
  entry: DirEntry;
}

export interface ReconcileObserver {
  /** One page of a resource type's entries, as the directory holds them. */
  page(rt: CompiledResourceType, entries: readonly WalkedEntry[]): Promise<void>;
  /** After the walk: `seen` tells which fields (`type:id`) it met; the others are gone. */
  walked(seen: (fields: readonly string[]) => Promise<boolean[]>): Promise<void>;
}

export interface ReconcileCounts {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
}

export type ReconcileReport = Record<string, ReconcileCounts>;

const SCAN_COUNT = 1000;
/** The set of ids seen outlives a crashed run by at most this long. */
const SEEN_TTL_SECONDS = 6 * 3600;

function differenceEvent(
  rt: { name: string },
  id: string,
  change: ChangeEventType,
  changedAttributes: string[],
): ChangeEvent {
  return {
    eventId: randomUUID(),
    type: `${rt.name.toLowerCase()}.${change}`,
    change,
    resourceType: rt.name,
    resourceId: id,
    changedAttributes,
    actor: 'reconcile',
    origin: 'directory',
    timestamp: new Date().toISOString(),
  };
}

export async function reconcile(options: ReconcileOptions): Promise<ReconcileReport> {
  const report: ReconcileReport = {};
  for (const service of options.services)
    report[service] = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
  if (options.services.length === 0) return report;
  const seenKey = `${options.keyPrefix}feed:reconcile:${randomUUID()}`;
  try {
    for (const rt of options.mappings.resourceTypes) {
      await options.reader.eachPage(rt, digestAttributes(rt), (entries) =>
        reconcilePage(options, rt, entries, seenKey, report),
      );
    }
    if (!options.dryRun)
      await options.observer?.walked(async (fields) =>
        fields.length === 0
          ? []
          : (await options.redis.smismember(seenKey, ...fields)).map((member) => member === 1),
      );
    for (const service of options.services) await reconcileDeletes(options, service, seenKey, report);
  } finally {
    await options.redis.del(seenKey).catch(() => undefined);
  }
  return report;
}

/** One page of entries against every service's digests. */
async function reconcilePage(
  options: ReconcileOptions,
  rt: CompiledResourceType,
  entries: readonly DirEntry[],
  seenKey: string,
  report: ReconcileReport,
): Promise<void> {
  const { redis, keyPrefix } = options;
  const current = entries.flatMap((entry) => {
    const id = entryId(rt, entry);
    return id === undefined
      ? []
      : [{ id, field: digestField(rt.name, id), entry, digests: attributeDigests(rt, entry) }];
  });
  if (current.length === 0) return;
  await redis
    .multi()
    .sadd(seenKey, ...current.map((c) => c.field))
    .expire(seenKey, SEEN_TTL_SECONDS)
    .exec();
  if (!options.dryRun) await options.observer?.page(rt, current);
  for (const service of options.services) {
    const key = feedKeys(keyPrefix).digests(service);
    const stored = await redis.hmget(key, ...current.map((c) => c.field));
    const events: ChangeEvent[] = [];
    const updates: [string, string][] = [];
    current.forEach((entry, index) => {
      const told: AttributeDigests | undefined = parseDigests(stored[index]);
      const counts = report[service] as ReconcileCounts;
      const changed = told === undefined ? Object.keys(entry.digests) : changedNames(told, entry.digests);
      if (told !== undefined && changed.length === 0) {
        counts.unchanged++;
        return;
      }
      const change = told === undefined ? 'created' : 'updated';
      counts[change]++;
      events.push(differenceEvent(rt, entry.id, change, changed));
      updates.push([entry.field, JSON.stringify(entry.digests)]);
    });
    await settle(options, service, events, (multi) => {
      for (const [field, value] of updates) multi.hset(key, field, value);
    });
  }
}

/** Digests whose entries the walk did not see: deleted since the service was told. */
async function reconcileDeletes(
  options: ReconcileOptions,
  service: string,
  seenKey: string,
  report: ReconcileReport,
): Promise<void> {
  const { redis, keyPrefix } = options;
  const key = feedKeys(keyPrefix).digests(service);
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(key, cursor, 'COUNT', SCAN_COUNT);
    cursor = next;
    const fields = flat.filter((_, index) => index % 2 === 0);
    if (fields.length === 0) continue;
    const present = await redis.smismember(seenKey, ...fields);
    const gone = fields.filter((_, index) => present[index] === 0);
    const events = gone.flatMap((field) => {
      const colon = field.indexOf(':');
      if (colon <= 0) return [];
      return [differenceEvent({ name: field.slice(0, colon) }, field.slice(colon + 1), 'deleted', [])];
    });
    (report[service] as ReconcileCounts).deleted += events.length;
    await settle(options, service, events, (multi) => {
      for (const field of gone) multi.hdel(key, field);
    });
  } while (cursor !== '0');
}

/** Publishes to one service and records what it was told (nothing in a dry run). */
async function settle(
  options: ReconcileOptions,
  service: string,
  events: ChangeEvent[],
  record: (multi: ReturnType<Redis['multi']>) => void,
): Promise<void> {
  for (const event of events) options.onDifference?.(service, event);
  if (options.dryRun || events.length === 0) return;
  await options.publisher.publish(events, { service });
  const multi = options.redis.multi();
  record(multi);
  await multi.exec();
}

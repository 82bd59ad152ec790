/**
 * The change journal in Redis (implements the ChangeJournal port).
 *
 *  begin   HSET journal:intent:<id> {state: pending, intent, createdAt} + ZADD journal:open (+ the
 *          Idempotency-Key's pending fate, write-fates.ts) — in one MULTI, before the directory write;
 *          then, with `replicas`, WAIT for them. Redis unreachable (or too few replicas):
 *          UnavailableError (the client gets 503 and nothing is written to the directory).
 *  commit  HSET state=committed with the finished events (resourceId, timestamp) — from then on the
 *          decision is durable; then publish (idempotent: jobId = eventId); then DEL + ZREM.
 *  abort   DEL + ZREM: the directory refused, nothing happened.
 *
 * An intent left open (the process died, Redis failed mid-commit) is settled by
 * `recoverOpenIntents`: a committed one is published again; a pending one is checked against the
 * directory (did the write happen?) and published or discarded.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { UnavailableError } from '../ports/errors.ts';
import type { ChangeEvent, ChangeIntent, ChangeJournal, JournalEntry } from '../ports/events.ts';
import { journalKeys } from './keys.ts';
import { type JobLog, silentLog } from './log.ts';
import { type EventPublisher, failOnError } from './publisher.ts';
import { recordSaga } from './sagas.ts';
import { type FateOptions, fateCompleted, forgetFate, recordPendingFate } from './write-fates.ts';

/** The finished events of an intent. */
export function finishEvents(intent: ChangeIntent, resourceId: string, timestamp: Date): ChangeEvent[] {
  return intent.events.map((event) => ({ ...event, resourceId, timestamp: timestamp.toISOString() }));
}

export interface RedisJournalOptions {
  redis: Redis;
  keyPrefix: string;
  publisher: EventPublisher;
  log?: JobLog;
  /** Services that must confirm an event type before its resource is enabled (sagas). */
  requiredFor?: (eventType: string) => string[];
  /** How long a keyed write's fate is kept (config idempotency.ttlSeconds); default 1 day. */
  fateTtlSeconds?: number;
  /** Replicas that must hold an intent (WAIT) before the directory write (config redis.replicasToAcknowledge). */
  replicas?: { count: number; timeoutMs: number };
}

export class RedisChangeJournal implements ChangeJournal {
  readonly #options: RedisJournalOptions;
  readonly #keys: ReturnType<typeof journalKeys>;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: RedisJournalOptions) {
    this.#options = options;
    this.#keys = journalKeys(options.keyPrefix);
  }

  confirmationRequired(resourceType: string): boolean {
    return (this.#options.requiredFor?.(`${resourceType.toLowerCase()}.created`) ?? []).length > 0;
  }

  async begin(intent: ChangeIntent): Promise<JournalEntry> {
    const id = randomUUID();
    const createdAt = Date.now();
    try {
      const multi = this.#options.redis
        .multi()
        .hset(this.#keys.intent(id), {
          state: 'pending',
          intent: JSON.stringify(intent),
          createdAt: String(createdAt),
        })
        .zadd(this.#keys.open, createdAt, id);
      recordPendingFate(multi, this.#options, id, intent);
      await multi.exec().then(failOnError);
      await this.#replicated();
    } catch (error) {
      throw new UnavailableError('the change journal (Redis) cannot record the write', error);
    }
    return {
      commit: (outcome) => this.#commit(id, intent, outcome.resourceId, createdAt),
      abort: () => this.#forget(id, intent),
    };
  }

  /**
   * Makes the decision durable (state committed, with the finished events and their order
   * entries) and returns: from here on the events cannot be lost, recovery would publish them.
   * The jobs are added in the background, so the client's answer does not wait for them.
   */
  async #commit(id: string, intent: ChangeIntent, resourceId: string, createdAt: number): Promise<void> {
    const knownId = resourceId || intent.resourceId;
    // Without the resource id the events would be useless: leave the intent to recovery, which
    // reads the id from the directory.
    if (!knownId) return;
    const events = finishEvents(intent, knownId, new Date());
    const rest = await settle(this.#options, id, events, createdAt, intent);
    const pending = rest().catch((error: Error) =>
      (this.#options.log ?? silentLog).warn(
        { intentId: id, err: error.message },
        'events: publishing a committed change failed; journal recovery will publish it',
      ),
    );
    this.#inFlight.add(pending);
    void pending.finally(() => this.#inFlight.delete(pending));
  }

  /**
   * The intent on enough replicas to survive a failover (docs/architecture.md §Redis Sentinel):
   * else the write is refused before the directory is touched, and recovery discards the intent.
   */
  async #replicated(): Promise<void> {
    const replicas = this.#options.replicas;
    if (!replicas || replicas.count <= 0) return;
    const acknowledged = await this.#options.redis.wait(replicas.count, replicas.timeoutMs);
    if (acknowledged < replicas.count)
      throw new Error(`${acknowledged} of ${replicas.count} replicas acknowledged the intent`);
  }

  /** Waits for the background publishes (at shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  async #forget(id: string, intent: ChangeIntent): Promise<void> {
    const multi = this.#options.redis.multi().del(this.#keys.intent(id)).zrem(this.#keys.open, id);
    forgetFate(multi, this.#options, intent);
    await multi.exec();
  }
}

/**
 * Records the decision (and the events' order entries) durably; returns the rest — add the jobs,
 * close the intent — to run now or in the background. Each step is safe to repeat.
 */
async function settle(
  options: Pick<RedisJournalOptions, 'redis' | 'keyPrefix' | 'publisher' | 'requiredFor'> & FateOptions,
  id: string,
  events: ChangeEvent[],
  createdAt: number,
  intent: ChangeIntent | undefined,
): Promise<() => Promise<void>> {
  const keys = journalKeys(options.keyPrefix);
  const multi = options.redis
    .multi()
    .hset(keys.intent(id), {
      state: 'committed',
      events: JSON.stringify(events),
      createdAt: String(createdAt),
    })
    .zadd(keys.open, createdAt, id);
  // A new resource waiting for required services: its saga is recorded with the decision.
  for (const event of events)
    recordSaga(multi, options.keyPrefix, event, options.requiredFor?.(event.type) ?? []);
  const resourceId = events[0]?.resourceId;
  if (intent && resourceId) fateCompleted(multi, options, intent, resourceId);
  await options.publisher.recordOrder(multi, events).exec().then(failOnError);
  return async () => {
    await options.publisher.enqueue(events);
    await options.redis.multi().del(keys.intent(id)).zrem(keys.open, id).exec().then(failOnError);
  };
}

/** What recovery needs to know about an entry: its SCIM id and version attribute value. */
export interface EntryState {
  id: string;
  version?: string;
}

/**
 * Reads the entry at `dn` for a resource type (the id and version attributes come from its
 * mapping); undefined when no entry exists there. Throws the port's UnavailableError when the
 * directory cannot answer (the intent is then left for the next round).
 */
export type EntryProbe = (resourceType: string, dn: string) => Promise<EntryState | undefined>;

/**
 * Did the journaled write happen? Returns the resource id to publish with, or undefined to discard.
 * When the directory cannot tell (the entry is gone, or there is no version to compare), the
 * events are published: a receiver can ignore a spurious event, it cannot recover a lost one.
 */
export async function decide(intent: ChangeIntent, probe: EntryProbe): Promise<string | undefined> {
  switch (intent.operation) {
    case 'add': {
      const entry = await probe(intent.resourceType, intent.dn);
      return entry ? entry.id : undefined;
    }
    case 'delete': {
      const entry = await probe(intent.resourceType, intent.dn);
      if (!entry) return intent.resourceId ?? '';
      return intent.resourceId !== undefined && entry.id !== intent.resourceId
        ? intent.resourceId
        : undefined;
    }
    case 'modify': {
      const id = intent.resourceId ?? '';
      if (intent.newDn !== undefined) {
        const moved = await probe(intent.resourceType, intent.newDn);
        if (moved && (intent.resourceId === undefined || moved.id === intent.resourceId)) return moved.id;
      }
      const entry = await probe(intent.resourceType, intent.dn);
      if (!entry || (intent.resourceId !== undefined && entry.id !== intent.resourceId)) return id;
      if (intent.versionBefore === undefined || entry.version === undefined) return id;
      return entry.version !== intent.versionBefore ? id : undefined;
    }
  }
}

export interface RecoveryOptions extends FateOptions {
  redis: Redis;
  keyPrefix: string;
  publisher: EventPublisher;
  requiredFor?: (eventType: string) => string[];
  probe: EntryProbe;
  /** Only intents older than this are settled: younger ones may still be in flight. */
  graceMs: number;
  /** Most intents settled per call. */
  limit?: number;
  log?: JobLog;
}

export interface RecoveryReport {
  published: number;
  discarded: number;
  deferred: number;
}

/** Settles the open intents older than the grace period. Run at start-up and periodically. */
export async function recoverOpenIntents(options: RecoveryOptions): Promise<RecoveryReport> {
  const { redis, graceMs } = options;
  const keys = journalKeys(options.keyPrefix);
  const report: RecoveryReport = { published: 0, discarded: 0, deferred: 0 };
  const ids = await redis.zrangebyscore(
    keys.open,
    '-inf',
    Date.now() - graceMs,
    'LIMIT',
    0,
    options.limit ?? 500,
  );
  for (const id of ids) {
    const outcome = await settleLocked(options, id);
    if (outcome !== undefined && outcome !== 'locked') report[outcome]++;
  }
  return report;
}

/**
 * Settles one intent under its lock, whatever its age (recovery, and a keyed retry that needs the
 * fate of its write now, jobs/write-fates.ts); 'locked' when another instance is settling it.
 */
export async function settleLocked(
  options: RecoveryOptions,
  id: string,
): Promise<keyof RecoveryReport | 'locked' | undefined> {
  const { redis } = options;
  const keys = journalKeys(options.keyPrefix);
  const locked = await redis.set(keys.lock(id), '1', 'PX', 30_000, 'NX');
  if (locked !== 'OK') return 'locked';
  try {
    return await settleIntent(options, id);
  } finally {
    await redis.del(keys.lock(id)).catch(() => undefined);
  }
}

/** One locked intent: its events published (the write happened), discarded (it did not), or deferred. */
async function settleIntent(options: RecoveryOptions, id: string): Promise<keyof RecoveryReport | undefined> {
  const { redis } = options;
  const log = options.log ?? silentLog;
  const keys = journalKeys(options.keyPrefix);
  const fields = await redis.hgetall(keys.intent(id));
  const createdAt = Number(fields.createdAt ?? Date.now());
  const recorded = fields.intent ? (JSON.parse(fields.intent) as ChangeIntent) : undefined;
  if (fields.state === 'committed' && fields.events) {
    await (await settle(options, id, JSON.parse(fields.events) as ChangeEvent[], createdAt, recorded))();
    return 'published';
  }
  if (!recorded) {
    await redis.zrem(keys.open, id);
    return undefined;
  }
  const intent = recorded;
  let resourceId: string | undefined;
  try {
    resourceId = await decide(intent, options.probe);
  } catch (error) {
    log.warn(
      { intentId: id, err: (error as Error).message },
      'journal recovery: directory did not answer; retried later',
    );
    return 'deferred';
  }
  if (resourceId === undefined) {
    const multi = redis.multi().del(keys.intent(id)).zrem(keys.open, id);
    forgetFate(multi, options, intent);
    await multi.exec();
    log.info(
      { intentId: id, operation: intent.operation, dn: intent.dn },
      'journal recovery: the write did not happen; intent discarded',
    );
    return 'discarded';
  }
  // The change happened when the intent was recorded (give or take the write's duration).
  await (
    await settle(options, id, finishEvents(intent, resourceId, new Date(createdAt)), createdAt, intent)
  )();
  log.info(
    { intentId: id, operation: intent.operation, resourceId },
    'journal recovery: the write happened; events published',
  );
  return 'published';
}

/** Number and age of the open intents (for /ready). */
export async function openIntents(
  redis: Redis,
  keyPrefix: string,
): Promise<{ count: number; oldestMs?: number }> {
  const keys = journalKeys(keyPrefix);
  const [count, oldest] = await Promise.all([
    redis.zcard(keys.open),
    redis.zrange(keys.open, '0', '0', 'WITHSCORES'),
  ]);
  return oldest[1] === undefined ? { count } : { count, oldestMs: Date.now() - Number(oldest[1]) };
}

/**
 * The change feed's consumer (docs/architecture.md §Change feed). One poll:
 *   1. hold the lease (only the holder reads; the others stand by);
 *   2. check that the log still holds the position, else reconcile every service and start again
 *      from the time the reconciliation began (a purged log, a restored directory);
 *   3. read the records from `settleWindowMs` before the position (slapd writes a record when its
 *      operation ends, so an earlier record can appear after a later one) and keep those not yet
 *      handled;
 *   4. publish their events through the same publisher as SCIM writes, record the digests, and
 *      only then move the position (fenced): a crash in between publishes again, and the event
 *      ids derived from the records make that a no-op for every delivery already queued.
 * The bridge's own writes (reqAuthzID = its bind DN) are not published: the journal did that.
 */
import type { Redis } from 'ioredis';
import type { FeedConfig } from '../config/index.ts';
import type { EventPublisher } from '../jobs/publisher.ts';
import { sameDn } from '../lib/dn.ts';
import type { MappingSet } from '../mapping/compiled.ts';
import { entryId } from '../mapping/convert.ts';
import type { ChangeEvent } from '../ports/events.ts';
import {
  type LogRecord,
  parseLogRecord,
  type RawLogEntry,
  reqStartMicros,
  reqStartMinus,
} from './accesslog.ts';
import { attributeDigests, digestAttributes, digestField, storeDigests } from './digests.ts';
import { type FeedLease, type FeedPosition, feedKeys, readPosition } from './lease.ts';
import type { FeedReader } from './reader.ts';
import { eventsOfRecord, resourceTypeOf, type TranslateContext } from './translate.ts';

/** Entry reads in flight for the digests of a batch. */
const DIGEST_READS_IN_FLIGHT = 32;

export interface FeedLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ConsumerOptions {
  config: FeedConfig;
  keyPrefix: string;
  redis: Redis;
  publisher: EventPublisher;
  reader: FeedReader;
  lease: FeedLease;
  mappings: () => MappingSet;
  /** The bridge's bind DN: records it made are the journal's, not the feed's. */
  ownDn: string;
  log: FeedLog;
  /** A full reconciliation of every service (the gap fallback). */
  reconcileAll: () => Promise<unknown>;
}

/** What the feed did, for /ready, the CLI and the metrics hook. */
export interface FeedStatus {
  role: 'active' | 'standby' | 'stopped';
  position?: string;
  /** How far the position is behind the newest record read (0 when caught up). */
  lagMs: number;
  /** Events published per origin by this process (the feed publishes `directory` ones). */
  events: { directory: number };
  /** Records of the bridge's own writes (published by the journal, not here). */
  ownWrites: number;
  records: number;
  reconciliations: number;
  lastPollAt?: number;
  lastError?: string;
}

/**
 * A generalized time for `now` (the first position when none is stored), at the start of the
 * current second: slapd's reqStart fraction is not always microseconds (it may be a counter within
 * the second), so only the seconds compare with the wall clock.
 */
export function generalizedNow(now = Date.now()): string {
  return reqStartMinus('19700101000000.000000Z', -(Math.floor(now / 1000) * 1000));
}

export class FeedConsumer {
  readonly #options: ConsumerOptions;
  readonly status: FeedStatus = {
    role: 'standby',
    lagMs: 0,
    events: { directory: 0 },
    ownWrites: 0,
    records: 0,
    reconciliations: 0,
  };

  constructor(options: ConsumerOptions) {
    this.#options = options;
  }

  /** One poll; returns how many new records were handled (batchSize: more are waiting). */
  async pollOnce(): Promise<number> {
    const { lease, config } = this.#options;
    this.status.lastPollAt = Date.now();
    if (!(await lease.hold())) {
      this.status.role = 'standby';
      return 0;
    }
    this.status.role = 'active';
    const position = await this.#currentPosition();
    if (position === undefined) return 0;
    this.status.position = position.reqStart;
    const since = reqStartMinus(position.reqStart, config.settleWindowMs);
    const fresh = await this.#unseenRecords(since);
    if (fresh.length === 0) {
      this.status.lagMs = 0;
      return 0;
    }
    const batch = fresh.slice(0, config.batchSize);
    await this.#handle(batch.flatMap((raw) => this.#parse(raw)));
    const handled = batch.map((raw) => ({
      reqStart: String(raw.reqStart),
      score: Math.floor(reqStartMicros(String(raw.reqStart)) / 1000),
    }));
    // The position only moves forward: a late record (older than it) is handled, not followed.
    const latest =
      handled
        .map((h) => h.reqStart)
        .sort()
        .at(-1) ?? position.reqStart;
    const next: FeedPosition = latest > position.reqStart ? { reqStart: latest, kind: 'record' } : position;
    const newest = next.reqStart;
    const committed = await lease.commit(next, handled, Math.floor(reqStartMicros(since) / 1000));
    if (!committed) {
      this.status.role = 'standby';
      this.#options.log.warn(
        {},
        'feed: lost the lease before moving the position; another instance continues',
      );
      return 0;
    }
    this.status.position = newest;
    this.status.records += batch.length;
    this.status.lagMs =
      fresh.length > batch.length ? Math.max(0, Date.now() - reqStartMicros(newest) / 1000) : 0;
    return batch.length;
  }

  /** The stored position, after the gap check; a first run or a gap starts a new one. */
  async #currentPosition(): Promise<FeedPosition | undefined> {
    const { redis, keyPrefix, reader, lease, log } = this.#options;
    const stored = await readPosition(redis, keyPrefix);
    if (stored && (stored.kind === 'start' || (await reader.holds(stored.reqStart)))) return stored;
    // Taken before the reconciliation: changes made while it runs are read again afterwards.
    const start: FeedPosition = { reqStart: generalizedNow(), kind: 'start' };
    if (stored === undefined) {
      log.info(
        { position: start.reqStart },
        'feed: no position yet; following the directory from now (run `scim-ldap-bridge reconcile` to bring services up to date)',
      );
    } else {
      log.warn(
        { position: stored.reqStart },
        'feed: the directory log no longer holds the position (purged, or the directory was restored); reconciling every service',
      );
      await this.#options.reconcileAll();
      this.status.reconciliations++;
    }
    return (await lease.commit(start, [], 0)) ? start : undefined;
  }

  /** Records from `since` on that were not handled yet, oldest first. */
  async #unseenRecords(since: string): Promise<RawLogEntry[]> {
    const { redis, keyPrefix, reader, config } = this.#options;
    const seen = new Set(
      await redis.zrangebyscore(feedKeys(keyPrefix).seen, Math.floor(reqStartMicros(since) / 1000), '+inf'),
    );
    const records = await reader.records(since, config.batchSize + seen.size + 1);
    return records.filter((raw) => !seen.has(String(raw.reqStart)));
  }

  #parse(raw: RawLogEntry): LogRecord[] {
    try {
      return [parseLogRecord(raw)];
    } catch (error) {
      this.#options.log.warn({ err: (error as Error).message }, 'feed: log record skipped');
      return [];
    }
  }

  /** Events published (in order, scored by the records' microsecond times), then digests stored. */
  async #handle(records: readonly LogRecord[]): Promise<void> {
    const { publisher, redis, keyPrefix, ownDn } = this.#options;
    const context = this.#translateContext();
    const events: ChangeEvent[] = [];
    const scores: number[] = [];
    const digests: { field: string; digests: ReturnType<typeof attributeDigests> | undefined }[] = [];
    for (const record of records) {
      const own = ownDn !== '' && sameDn(record.authzId, ownDn);
      if (own) this.status.ownWrites++;
      else {
        const recordEvents = await eventsOfRecord(record, context);
        const micros = reqStartMicros(record.reqStart);
        recordEvents.forEach((event, index) => {
          events.push(event);
          scores.push(micros + index);
        });
      }
      this.#rememberIds(record);
    }
    // The digests read the entries as they stand now: in parallel (one connection, many requests).
    for (let i = 0; i < records.length; i += DIGEST_READS_IN_FLIGHT) {
      const chunk = records.slice(i, i + DIGEST_READS_IN_FLIGHT);
      for (const digest of await Promise.all(chunk.map((r) => this.#digestOf(r, context))))
        if (digest) digests.push(digest);
    }
    await publisher.publish(events, { scores });
    this.status.events.directory += events.length;
    await storeDigests(
      redis,
      keyPrefix,
      publisher.services.map((s) => s.name),
      digests,
    );
  }

  /** The entry's digests as it now stands (undefined digests: it is gone). */
  async #digestOf(record: LogRecord, context: TranslateContext) {
    if (record.entryUuid === undefined) return undefined;
    const rt = await resourceTypeOf(record, context);
    if (!rt) return undefined;
    const field = digestField(rt.name, record.entryUuid);
    if (record.operation === 'delete') return { field, digests: undefined };
    const entry = await this.#options.reader.entry(record.newDn ?? record.dn, digestAttributes(rt));
    // Gone since (a later record deletes it): that record forgets it.
    if (!entry || entryId(rt, entry) !== record.entryUuid) return undefined;
    return { field, digests: attributeDigests(rt, entry) };
  }

  #rememberIds(record: LogRecord): void {
    const { reader } = this.#options;
    if (record.operation === 'delete' || record.operation === 'modrdn') reader.forget(record.dn);
    if (record.operation === 'add' && record.entryUuid) reader.remember(record.dn, record.entryUuid);
  }

  #translateContext(): TranslateContext {
    const { reader } = this.#options;
    return {
      resourceTypes: this.#options.mappings().resourceTypes,
      entryMatches: (dn, filter) => reader.matches(dn, filter),
      idOfDn: (dn) => reader.idOfDn(dn),
    };
  }
}

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
import type { FeedConfig } from '../config/index.ts';
import {
  type LogRecord,
  parseLogRecord,
  type RawLogEntry,
  reqStartMicros,
  reqStartMinus,
} from './accesslog.ts';
import {
  type FeedLog,
  type FeedStatus,
  type HandlerOptions,
  initialStatus,
  RecordHandler,
} from './handle.ts';
import { type FeedLease, type FeedPosition, feedKeys, readPosition } from './lease.ts';

export type { FeedLog, FeedStatus } from './handle.ts';

export interface ConsumerOptions extends HandlerOptions {
  config: FeedConfig;
  lease: FeedLease;
  log: FeedLog;
  /** A full reconciliation of every service (the gap fallback). */
  reconcileAll: () => Promise<unknown>;
}

/** What the composition root polls, whichever directory log the feed reads. */
export interface FeedSourceConsumer {
  readonly status: FeedStatus;
  pollOnce(): Promise<number>;
}

/**
 * A generalized time for `now` (the first position when none is stored), at the start of the
 * current second: slapd's reqStart fraction is not always microseconds (it may be a counter within
 * the second), so only the seconds compare with the wall clock.
 */
export function generalizedNow(now = Date.now()): string {
  return reqStartMinus('19700101000000.000000Z', -(Math.floor(now / 1000) * 1000));
}

export class FeedConsumer implements FeedSourceConsumer {
  readonly #options: ConsumerOptions;
  readonly status: FeedStatus;
  readonly #handler: RecordHandler;

  constructor(options: ConsumerOptions, status: FeedStatus = initialStatus()) {
    this.#options = options;
    this.status = status;
    this.#handler = new RecordHandler(options, status);
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
    await this.#handler.handle(
      batch.flatMap((raw) => this.#parse(raw)),
      (record) => reqStartMicros(record.reqStart),
    );
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
}

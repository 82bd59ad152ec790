/**
 * The change feed over 389-DS's Retro Changelog (docs/architecture.md §Change feed). One poll:
 *   1. hold the lease (only the holder reads; the others stand by);
 *   2. compare the position (the last changeNumber handled) with the changelog's bounds in the
 *      rootDSE: records after it trimmed, or a changelog that ends before it (recreated, the
 *      directory restored) mean a gap: reconcile every service, then follow from the number the
 *      changelog had reached when the reconciliation began;
 *   3. read the records numbered after the position, publish their events through the same
 *      handler as the accesslog feed, and only then move the position (fenced). A crash in between
 *      publishes again; the event ids derived from the records make that a no-op.
 * Why the changelog and not a persistent search: the changelog is a log with a number, so a
 * position survives restarts and a consumer that was away reads what it missed; a persistent
 * search sees only what happens while it is connected, and deletes made meanwhile are lost.
 * 389 writes a record inside the write's own backend transaction (a betxn plug-in), so a number
 * is visible only with its change and the records appear in number order: no re-read window as
 * for slapd's accesslog (test/integration/389ds/feed*.test.ts: 100 parallel writers, none lost).
 */
import type { FeedConfig } from '../../config/index.ts';
import { type LogRecord, type RawLogEntry, reqStartMicros } from '../accesslog.ts';
import type { FeedSourceConsumer } from '../consumer.ts';
import {
  type FeedLog,
  type FeedStatus,
  type HandlerOptions,
  initialStatus,
  RecordHandler,
} from '../handle.ts';
import { type FeedLease, readPosition } from '../lease.ts';
import {
  type ChangelogRecord,
  changelogGap,
  parseChangelogRecord,
  positiveInteger,
  single,
} from './changelog.ts';
import type { ChangelogReader } from './reader.ts';

const POSITION_PREFIX = 'changelog:';

/** The stored position's text for a changeNumber (the lease stores positions as text). */
export function changelogPosition(changeNumber: number): string {
  return `${POSITION_PREFIX}${changeNumber}`;
}

/** The changeNumber of a stored position; undefined when it is not a changelog position. */
export function changeNumberOf(position: string): number | undefined {
  const digits = position.startsWith(POSITION_PREFIX) ? position.slice(POSITION_PREFIX.length) : '';
  return /^\d{1,15}$/.test(digits) ? Number(digits) : undefined;
}

/**
 * A record's order score in the publisher's units (µs): changeTime has 1 s resolution, so the
 * changeNumber orders the records within the second (4 steps each: a record yields at most three
 * events). Wraps only past 250,000 changes within one second.
 */
export function changelogScore(record: LogRecord): number {
  const changeNumber = (record as Partial<ChangelogRecord>).changeNumber ?? 0;
  return reqStartMicros(record.reqStart) + (changeNumber % 250_000) * 4;
}

export interface ChangelogConsumerOptions extends Omit<HandlerOptions, 'reader'> {
  config: FeedConfig;
  reader: ChangelogReader;
  lease: FeedLease;
  log: FeedLog;
  reconcileAll: () => Promise<unknown>;
}

export class ChangelogConsumer implements FeedSourceConsumer {
  readonly #options: ChangelogConsumerOptions;
  readonly status: FeedStatus;
  readonly #handler: RecordHandler;

  constructor(options: ChangelogConsumerOptions, status: FeedStatus = initialStatus()) {
    this.#options = options;
    this.status = status;
    this.#handler = new RecordHandler(options, status);
  }

  /** One poll; returns how many records were handled (batchSize: more are waiting). */
  async pollOnce(): Promise<number> {
    const { lease, config, reader } = this.#options;
    this.status.lastPollAt = Date.now();
    if (!(await lease.hold())) {
      this.status.role = 'standby';
      return 0;
    }
    this.status.role = 'active';
    const position = await this.#currentPosition();
    if (position === undefined) return 0;
    this.status.changeNumber = position;
    const fresh = await reader.changes(position, config.batchSize + 1);
    if (fresh.length === 0) {
      this.status.lagMs = 0;
      return 0;
    }
    const batch = fresh.slice(0, config.batchSize);
    const records = batch.flatMap((raw) => this.#parse(raw));
    await this.#handler.handle(records, changelogScore, byPlugin);
    // A record that did not parse is passed too (it was reported): the position is its number.
    const last = Math.max(position, ...batch.map((raw) => positiveInteger(single(raw, 'changeNumber')) ?? 0));
    if (!(await lease.commit({ reqStart: changelogPosition(last), kind: 'record' }, [], 0))) {
      this.status.role = 'standby';
      this.#options.log.warn(
        {},
        'feed: lost the lease before moving the position; another instance continues',
      );
      return 0;
    }
    const newest = records.at(-1)?.reqStart;
    this.status.changeNumber = last;
    if (newest !== undefined) this.status.position = newest;
    this.status.records += batch.length;
    this.status.lagMs =
      fresh.length > batch.length && newest !== undefined
        ? Math.max(0, Date.now() - reqStartMicros(newest) / 1000)
        : 0;
    return batch.length;
  }

  /** The stored changeNumber, after the gap check; a first run or a gap starts a new one. */
  async #currentPosition(): Promise<number | undefined> {
    const { redis, keyPrefix, reader, lease, log } = this.#options;
    const [stored, bounds] = await Promise.all([readPosition(redis, keyPrefix), reader.bounds()]);
    if (!bounds.enabled)
      throw new Error(
        'the directory has no retro changelog (rootDSE changeLog): enable the Retro Changelog plug-in (README §Change feed)',
      );
    const number = stored === undefined ? undefined : changeNumberOf(stored.reqStart);
    const gap = number === undefined ? undefined : changelogGap(number, bounds);
    if (number !== undefined && gap === undefined) return number;
    // Taken before the reconciliation: changes made while it runs are read afterwards.
    const start = bounds.last ?? 0;
    if (number === undefined) {
      log.info(
        { changeNumber: start, ...(stored ? { previous: stored.reqStart } : {}) },
        'feed: no changelog position yet; following the directory from now (run `scim-ldap-bridge reconcile` to bring services up to date)',
      );
    } else {
      log.warn({ changeNumber: number, ...bounds }, `feed: ${gap}; reconciling every service`);
      await this.#options.reconcileAll();
      this.status.reconciliations++;
    }
    return (await lease.commit({ reqStart: changelogPosition(start), kind: 'start' }, [], 0))
      ? start
      : undefined;
  }

  #parse(raw: RawLogEntry): LogRecord[] {
    try {
      return [parseChangelogRecord(raw)];
    } catch (error) {
      this.#options.log.warn({ err: (error as Error).message }, 'feed: changelog record skipped');
      return [];
    }
  }
}

/**
 * A change a 389 plug-in made as the consequence of another (MemberOf rewriting a renamed or
 * deleted member's groups, its memberOf bookkeeping): the change that caused it has its event,
 * and a rename changes no SCIM id, so publishing these would only repeat it.
 */
export function byPlugin(record: LogRecord): boolean {
  return /,\s*cn=plugins\s*,\s*cn=config$/i.test(record.authzId);
}

/**
 * What every change feed does with a batch of parsed records, whatever log they came from
 * (OpenLDAP's accesslog, 389-DS's retro changelog): translate them to events, publish them
 * through the same publisher as SCIM writes, and record each entry's digests as it now stands
 * (docs/architecture.md §Change feed). The bridge's own writes (the record's author is its bind
 * DN; a delete record without an author, by the journal's mark, src/feed/own-writes.ts) are not
 * published: the journal did that.
 */
import type { Redis } from 'ioredis';
import type { EventPublisher } from '../jobs/publisher.ts';
import { sameDn } from '../lib/dn.ts';
import type { MappingSet } from '../mapping/compiled.ts';
import { entryId } from '../mapping/convert.ts';
import type { DirEntry } from '../ports/directory.ts';
import type { ChangeEvent } from '../ports/events.ts';
import type { LogRecord } from './accesslog.ts';
import { attributeDigests, digestAttributes, digestField, storeDigests } from './digests.ts';
import { OwnDeletes } from './own-writes.ts';
import type { FeedReader } from './reader.ts';
import { eventsOfRecord, resourceTypeOf, type TranslateContext } from './translate.ts';

/** Entry reads in flight for the digests of a batch. */
const DIGEST_READS_IN_FLIGHT = 32;

export interface FeedLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What the feed did, for /ready, the CLI and the metrics hook. */
export interface FeedStatus {
  role: 'active' | 'standby' | 'stopped';
  /** The generalized time of the last record handled (or of the start). */
  position?: string;
  /** The retro changelog's changeNumber of the last record handled (389-DS only). */
  changeNumber?: number;
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

export function initialStatus(): FeedStatus {
  return {
    role: 'standby',
    lagMs: 0,
    events: { directory: 0 },
    ownWrites: 0,
    records: 0,
    reconciliations: 0,
  };
}

export interface HandlerOptions {
  keyPrefix: string;
  redis: Redis;
  publisher: EventPublisher;
  reader: FeedReader;
  mappings: () => MappingSet;
  /** The bridge's bind DN: records it made are the journal's, not the feed's. */
  ownDn: string;
}

/** A delete record that names no author (389's Retro Changelog): the journal's marks tell. */
function authorless(record: LogRecord): boolean {
  return record.operation === 'delete' && record.authzId === '';
}

export class RecordHandler {
  readonly #options: HandlerOptions;
  readonly #status: FeedStatus;
  readonly #ownDeletes: OwnDeletes;

  constructor(options: HandlerOptions, status: FeedStatus) {
    this.#options = options;
    this.#status = status;
    this.#ownDeletes = new OwnDeletes(options.redis, options.keyPrefix);
  }

  /**
   * Events published (in order; `scoreOf` gives each record's order score in the publisher's
   * units, its events following at +1 each), then digests stored. `quiet` records only update
   * the digests: changes the directory made itself as the consequence of another one.
   */
  async handle(
    records: readonly LogRecord[],
    scoreOf: (record: LogRecord) => number,
    quiet: (record: LogRecord) => boolean = () => false,
  ): Promise<void> {
    const { publisher, redis, keyPrefix, ownDn } = this.#options;
    const context = this.#translateContext();
    const events: ChangeEvent[] = [];
    const scores: number[] = [];
    const digests: { field: string; digests: ReturnType<typeof attributeDigests> | undefined }[] = [];
    const deletes = records.filter(authorless);
    const ownDeletes = await this.#ownDeletes.find(deletes.map((r) => ({ dn: r.dn, id: r.entryUuid })));
    const markedOwn = new Set(deletes.filter((_, i) => ownDeletes.own[i]));
    for (const record of records) {
      const own = markedOwn.has(record) || (ownDn !== '' && sameDn(record.authzId, ownDn));
      if (own) this.#status.ownWrites++;
      else if (!quiet(record)) {
        const recordEvents = await eventsOfRecord(record, context);
        const score = scoreOf(record);
        recordEvents.forEach((event, index) => {
          events.push(event);
          scores.push(score + index);
        });
      }
      this.#rememberIds(record);
    }
    // The digests read the entries as they stand now: in parallel (one connection, many requests),
    // each entry once per batch however many of its records the batch holds.
    const reads = new Map<string, Promise<DirEntry | undefined>>();
    for (let i = 0; i < records.length; i += DIGEST_READS_IN_FLIGHT) {
      const chunk = records.slice(i, i + DIGEST_READS_IN_FLIGHT);
      for (const digest of await Promise.all(chunk.map((r) => this.#digestOf(r, context, reads))))
        if (digest) digests.push(digest);
    }
    await publisher.publish(events, { scores });
    this.#status.events.directory += events.length;
    await storeDigests(
      redis,
      keyPrefix,
      publisher.services.map((s) => s.name),
      digests,
    );
    await this.#ownDeletes.forget(ownDeletes.usedUp);
  }

  /** The entry's digests as it now stands (undefined digests: it is gone). */
  async #digestOf(
    record: LogRecord,
    context: TranslateContext,
    reads: Map<string, Promise<DirEntry | undefined>>,
  ) {
    if (record.entryUuid === undefined) return undefined;
    const rt = await resourceTypeOf(record, context);
    if (!rt) return undefined;
    const field = digestField(rt.name, record.entryUuid);
    if (record.operation === 'delete') return { field, digests: undefined };
    const dn = record.newDn ?? record.dn;
    const key = `${rt.name}\n${dn.toLowerCase()}`;
    let read = reads.get(key);
    if (read === undefined) {
      read = this.#options.reader.entry(dn, digestAttributes(rt));
      reads.set(key, read);
    }
    const entry = await read;
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

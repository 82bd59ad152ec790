/**
 * The Active Directory feed's consumer (docs/architecture.md §Change feed): uSNChanged polling.
 * One poll:
 *   1. hold the lease (only the holder reads);
 *   2. read the DC's invocationId and highest committed USN; a position of another DC (or a
 *      restored one: a new invocationId) or beyond the DC's USN is a gap: reconcile, then follow
 *      from the USN read before the reconciliation;
 *   3. read the window (position, position + batchSize] of USNs: each resource type's entries whose
 *      uSNChanged lies in it, and the tombstones (Show Deleted); stop before an entry the bridge is
 *      writing right now (its mark is not there yet);
 *   4. publish the events (the bridge's own writes excepted), record digests, then move the
 *      position (fenced). A crash in between publishes the window again: the event ids derive from
 *      (DC, USN, entry), so every delivery already queued is a no-op.
 */
import type { Redis } from 'ioredis';
import type { FeedConfig } from '../../config/index.ts';
import type { EventPublisher } from '../../jobs/publisher.ts';
import { type CompiledResourceType, type MappingSet, membershipRule } from '../../mapping/compiled.ts';
import { entryId } from '../../mapping/convert.ts';
import type { DirEntry } from '../../ports/directory.ts';
import type { FeedLog, FeedStatus } from '../consumer.ts';
import { attributeDigests, digestAttributes, digestField } from '../digests.ts';
import { type FeedLease, readPosition } from '../lease.ts';
import type { OwnWrites } from '../own-writes.ts';
import { type AdChange, adMemberOfKey, adStateKey, publishBatch } from './batch.ts';
import {
  type AdPosition,
  decodeAdPosition,
  encodeAdPosition,
  positionVerdict,
  tombstoneResourceType,
} from './changes.ts';
import type { AdReader, DcState } from './reader.ts';

export interface AdConsumerOptions {
  config: FeedConfig;
  keyPrefix: string;
  redis: Redis;
  publisher: EventPublisher;
  reader: AdReader;
  lease: FeedLease;
  ownWrites: OwnWrites;
  mappings: () => MappingSet;
  log: FeedLog;
  reconcileAll: () => Promise<unknown>;
}

function textOf(entry: { attributes: Record<string, unknown[]> }, name: string): string | undefined {
  const value = entry.attributes[name]?.[0];
  return value === undefined ? undefined : String(value);
}

export class AdFeedConsumer {
  readonly #options: AdConsumerOptions;
  readonly status: FeedStatus = {
    role: 'standby',
    lagMs: 0,
    events: { directory: 0 },
    ownWrites: 0,
    records: 0,
    reconciliations: 0,
  };
  /** When the position last reached the DC's highest USN (the lag is measured from it). */
  caughtUpAt = Date.now();
  #lastScore = 0;

  constructor(options: AdConsumerOptions) {
    this.#options = options;
  }

  /** One poll; returns batchSize when more USNs are waiting, else the changes handled. */
  async pollOnce(): Promise<number> {
    const { lease, config, reader } = this.#options;
    this.status.lastPollAt = Date.now();
    if (!(await lease.hold())) {
      this.status.role = 'standby';
      return 0;
    }
    this.status.role = 'active';
    const dc = await reader.dcState();
    const position = await this.#currentPosition(dc);
    if (position === undefined) return 0;
    this.status.position = encodeAdPosition(position);
    const behind = dc.usn - position.usn > config.batchSize;
    const to = behind ? position.usn + config.batchSize : dc.usn;
    if (to <= position.usn) return this.#caughtUp();
    // Near the head, live entries are read without an upper USN: an entry changed again between
    // the rootDSE read and the search would otherwise leave every window until it stops changing.
    const window = await this.#readWindow(dc, position.usn, to, behind ? to : undefined);
    const heldBack = await this.#heldBack(window);
    const end = heldBack === undefined ? to : Math.min(to, heldBack - 1);
    const batch = heldBack === undefined ? window : window.filter((change) => change.usn < heldBack);
    if (end <= position.usn) return 0;
    await this.#handle(batch, dc);
    const next: AdPosition = { invocationId: dc.invocationId, usn: end };
    if (!(await lease.commit({ reqStart: encodeAdPosition(next), kind: 'record' }, [], 0))) {
      this.status.role = 'standby';
      this.#options.log.warn(
        {},
        'feed: lost the lease before moving the position; another instance continues',
      );
      return 0;
    }
    this.status.position = encodeAdPosition(next);
    this.status.records += batch.length;
    if (end >= dc.usn) return this.#caughtUp(batch.length);
    this.status.lagMs = Date.now() - this.caughtUpAt;
    return heldBack === undefined ? config.batchSize : batch.length;
  }

  #caughtUp(handled = 0): number {
    this.caughtUpAt = Date.now();
    this.status.lagMs = 0;
    return handled;
  }

  /** The stored position, after the gap check; a first run or a gap starts from the DC's USN now. */
  async #currentPosition(dc: DcState): Promise<AdPosition | undefined> {
    const { redis, keyPrefix, lease, log } = this.#options;
    const stored = decodeAdPosition((await readPosition(redis, keyPrefix))?.reqStart);
    const verdict = positionVerdict(stored, dc);
    if (verdict === 'follow') return stored;
    // Taken before the reconciliation: changes made while it runs are read afterwards.
    const start: AdPosition = { invocationId: dc.invocationId, usn: dc.usn };
    if (verdict === 'first') {
      log.info(
        { position: encodeAdPosition(start) },
        'feed: no position yet; following the directory from now (run `scim-ldap-bridge reconcile` to bring services up to date)',
      );
    } else {
      log.warn(
        { position: stored && encodeAdPosition(stored), dc: encodeAdPosition(start), reason: verdict },
        verdict === 'other-dc'
          ? 'feed: the position belongs to another domain controller (or the DC was restored: a new invocationId); reconciling every service'
          : "feed: the DC's USN is behind the position (restored from a backup?); reconciling every service",
      );
      await this.#options.reconcileAll();
      this.status.reconciliations++;
    }
    const committed = await lease.commit({ reqStart: encodeAdPosition(start), kind: 'start' }, [], 0);
    return committed ? start : undefined;
  }

  /**
   * The window's live entries (up to `liveTo`, or all changed since), its tombstones and the
   * entries that left every scope (up to `to`), by USN. An entry read past `to` is read again by
   * the next window at the same USN: its digests and state are recorded by then, so it yields
   * nothing new (and the same event ids if it did).
   */
  async #readWindow(dc: DcState, after: number, to: number, liveTo?: number): Promise<AdChange[]> {
    const { reader } = this.#options;
    const resourceTypes = this.#options.mappings().resourceTypes;
    const changes: AdChange[] = [];
    for (const rt of resourceTypes)
      for (const entry of await reader.changedEntries(rt, digestAttributes(rt), after + 1, liveTo)) {
        const change = await this.#entryChange(rt, entry, after);
        if (change) changes.push(change);
      }
    const tombstones: AdChange[] = [];
    for (const tombstone of await reader.tombstones(dc.namingContext, after + 1, to)) {
      const rt = tombstoneResourceType(resourceTypes, tombstone.lastKnownParent, tombstone.objectClasses);
      if (rt) tombstones.push({ kind: 'tombstone', ...tombstone, rt });
    }
    const gone = [...tombstones, ...(await this.#movedOut(dc, changes, after, to))];
    changes.push(...gone, ...(await this.#groupsLosingMembers(gone, changes, after)));
    return changes.sort((a, b) => a.usn - b.usn);
  }

  /**
   * Entries the feed knew (kept state) that changed in the window but no longer match any resource
   * type (moved to another OU, their scope filter no longer true): deleted, as far as SCIM goes.
   */
  async #movedOut(dc: DcState, inScope: readonly AdChange[], after: number, to: number): Promise<AdChange[]> {
    const { redis, keyPrefix, reader } = this.#options;
    const known = new Set(inScope.map((c) => c.id));
    const others = (await reader.changedIds(dc.namingContext, after + 1, to)).filter((c) => !known.has(c.id));
    const gone: AdChange[] = [];
    for (const rt of this.#options.mappings().resourceTypes) {
      if (others.length === 0) break;
      const states = await redis.hmget(
        adStateKey(keyPrefix),
        ...others.map((c) => digestField(rt.name, c.id)),
      );
      others.forEach((c, i) => {
        if (states[i]) gone.push({ kind: 'tombstone', rt, id: c.id, usn: c.usn });
      });
    }
    return gone;
  }

  /** A live entry as a change (undefined: no id or no USN to place it by). */
  async #entryChange(
    rt: CompiledResourceType,
    entry: DirEntry,
    after: number,
    atUsn?: number,
  ): Promise<AdChange | undefined> {
    const id = entryId(rt, entry);
    const usn = atUsn ?? Number(textOf(entry, 'usnchanged'));
    if (id === undefined || !Number.isSafeInteger(usn)) return undefined;
    const members = membershipRule(rt);
    const whenChanged = textOf(entry, 'whenchanged');
    return {
      kind: 'entry',
      rt,
      id,
      usn,
      entry,
      created: Number(textOf(entry, 'usncreated')) > after,
      digests: attributeDigests(rt, entry),
      ...(members ? { memberIds: await this.#options.reader.memberIds(entry.dn, members.ldap) } : {}),
      ...(whenChanged ? { whenChanged } : {}),
    };
  }

  /**
   * The groups a deleted object was a member of (by the member ids kept): AD drops it from them
   * without moving their uSNChanged, so they are read here, placed at the deletion's USN (which
   * also keeps their event ids apart from those of the group's own last change).
   */
  async #groupsLosingMembers(
    tombstones: readonly AdChange[],
    window: readonly AdChange[],
    after: number,
  ): Promise<AdChange[]> {
    const { redis, keyPrefix, reader } = this.#options;
    const resourceTypes = this.#options.mappings().resourceTypes;
    const seen = new Set(window.map((c) => digestField(c.rt.name, c.id)));
    const found: AdChange[] = [];
    for (const tombstone of tombstones)
      for (const field of await redis.smembers(adMemberOfKey(keyPrefix, tombstone.id))) {
        const colon = field.indexOf(':');
        const rt = resourceTypes.find((r) => r.name === field.slice(0, colon));
        if (!rt || seen.has(field)) continue;
        seen.add(field);
        const entry = await reader.entryByGuid(rt, field.slice(colon + 1), digestAttributes(rt));
        const change = entry && (await this.#entryChange(rt, entry, after, tombstone.usn));
        if (change) found.push(change);
      }
    return found;
  }

  /** The USN of the first entry the bridge is writing right now (its mark may not exist yet). */
  async #heldBack(window: readonly AdChange[]): Promise<number | undefined> {
    const pending = await this.#options.ownWrites.pending(
      window.map((c) => ({ type: c.rt.name, id: c.id, dn: c.kind === 'entry' ? c.entry.dn : '' })),
    );
    const index = pending.indexOf(true);
    return index < 0 ? undefined : window[index]?.usn;
  }

  async #handle(batch: readonly AdChange[], dc: DcState): Promise<void> {
    const { ownWrites, redis, keyPrefix, publisher } = this.#options;
    const fields = batch.map((c) => ({ field: digestField(c.rt.name, c.id), usn: c.usn }));
    const { own, usedUp } = await ownWrites.own(fields);
    this.status.ownWrites += own.filter(Boolean).length;
    const firstScore = Math.max(Date.now() * 1000, this.#lastScore + 1);
    const { events, lastScore } = await publishBatch(
      { redis, keyPrefix, publisher, invocationId: dc.invocationId, firstScore },
      batch,
      own,
    );
    this.#lastScore = lastScore;
    this.status.events.directory += events;
    await ownWrites.forget(usedUp);
  }
}

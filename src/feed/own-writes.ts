/**
 * The bridge's own writes, marked for the feeds whose log does not name the author
 * (docs/architecture.md §Change feed): the journal published them, the feed must not again.
 *
 * 389-DS: a Retro Changelog delete record names nobody (its other records carry modifiersName),
 * so each delete of the bridge is marked under the entry's DN and id, from before the directory
 * write (389 writes the record inside the delete's transaction: the feed may read it before the
 * journal's commit) until the feed reads the record, for at most DELETE_MARK_TTL_MS; an abort
 * clears it.
 *
 * Active Directory records no author for any change (no reqAuthzID), so the journal's writes are marked in Redis,
 * shared by all instances: `pending` from before the directory write until its commit or abort (an
 * entry with a pending write holds the feed back, so it never reads the write before its mark
 * exists), then `own` = the entry's uSNChanged after the write (its meta.version). The feed treats a
 * change up to that USN as the journal's: it records the digests and publishes nothing; a later
 * USN is a direct change made after it, published as usual. A mark is forgotten only once a change
 * at (or past) its USN was handled, and only if no later write replaced it meanwhile (each mark is
 * unique, compared and deleted in one script): a PATCH committed while the feed handled the
 * entry's previous write keeps its mark for the window that reads it.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { normalizeDn } from '../lib/dn.ts';
import type { ChangeIntent, ChangeJournal, JournalEntry } from '../ports/events.ts';

/** Which writes are marked: every write for Active Directory, deletes for the Retro Changelog. */
export type OwnWriteMarking = 'ad' | 'changelog-deletes';

/** A crashed write's pending mark holds the feed back at most this long. */
const PENDING_TTL_MS = 60_000;
/** An own mark the feed never came to read (it was stopped) is forgotten after a day. */
const OWN_TTL_SECONDS = 24 * 3600;
/** A delete's mark outlives a feed that was away this long; after that it publishes the delete too. */
const DELETE_MARK_TTL_MS = 3600_000;
/** An own write whose version is unknown (a delete): any change of the entry up to now is its. */
export const ANY_USN = '*';

export function ownWriteKeys(keyPrefix: string) {
  return {
    pending: (name: string) => `${keyPrefix}feed:ad:pending:${name}`,
    own: (field: string) => `${keyPrefix}feed:ad:own:${field}`,
    ownDelete: (name: string) => `${keyPrefix}feed:own-delete:${name}`,
  };
}

/** Deletes each key whose value is still the one given (the mark the feed read). */
const FORGET_UNCHANGED = `
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i] then redis.call('DEL', key) end
end
return 0`;

/** A mark's text: the USN it covers, then the write's unique id. */
function markText(usn: string, write: string): string {
  return `${usn} ${write}`;
}

function markUsn(mark: string): string {
  return mark.split(' ', 1)[0] ?? '';
}

/** The feed's reading of a batch's marks: which changes were own, and which marks are used up. */
export interface OwnVerdict {
  own: boolean[];
  /** Marks whose USN the batch reached: forgotten after it is handled, unless replaced meanwhile. */
  usedUp: { field: string; mark: string }[];
}

/** The uSNChanged in a version (meta.version is a weak ETag, `W/"4012"`); unknown: any. */
export function usnOfVersion(version: string | undefined): string {
  return /^(?:W\/)?"?(\d{1,15})"?$/.exec(version ?? '')?.[1] ?? ANY_USN;
}

/** The names an entry is pending under: its DN(s) before and after, and its type:id when known. */
function pendingNames(intent: ChangeIntent): string[] {
  const names = [intent.dn, ...(intent.newDn ? [intent.newDn] : [])].map((dn) => `dn:${normalizeDn(dn)}`);
  if (intent.resourceId) names.push(`id:${intent.resourceType}:${intent.resourceId}`);
  return names;
}

/** The names a delete is marked under: its DN and its id (the 389 feed's record has both). */
function deleteNames(dn: string, id: string | undefined): string[] {
  return [`dn:${normalizeDn(dn)}`, ...(id ? [`uid:${id.toLowerCase()}`] : [])];
}

type MarkOptions = { redis: Redis; keyPrefix: string };

/** The journal, marking its writes as `marking()` says the directory needs (none: unmarked). */
export function markingOwnWrites(
  journal: ChangeJournal,
  options: MarkOptions & { marking: () => Promise<OwnWriteMarking | undefined> },
): ChangeJournal {
  const marking: ChangeJournal = {
    async begin(intent: ChangeIntent): Promise<JournalEntry> {
      const entry = await journal.begin(intent);
      const kind = await options.marking().catch(() => undefined);
      if (kind === 'ad') return markAdWrite(options, intent, entry);
      if (kind === 'changelog-deletes' && intent.operation === 'delete')
        return markDelete(options, intent, entry);
      return entry;
    },
  };
  if (journal.confirmationRequired) marking.confirmationRequired = journal.confirmationRequired.bind(journal);
  return marking;
}

/** A delete, marked before it is sent; the mark stays after the commit, for the feed to find. */
async function markDelete(options: MarkOptions, intent: ChangeIntent, entry: JournalEntry) {
  const keys = ownWriteKeys(options.keyPrefix);
  const names = deleteNames(intent.dn, intent.resourceId);
  const write = randomUUID();
  const multi = options.redis.multi();
  for (const name of names) multi.set(keys.ownDelete(name), write, 'PX', DELETE_MARK_TTL_MS);
  // Without the mark the feed publishes this delete too: at least once, never lost.
  await multi.exec().catch(() => undefined);
  return {
    commit: (outcome: Parameters<JournalEntry['commit']>[0]) => entry.commit(outcome),
    async abort() {
      const keyNames = names.map((name) => keys.ownDelete(name));
      await options.redis
        .eval(FORGET_UNCHANGED, keyNames.length, ...keyNames, ...names.map(() => write))
        .catch(() => undefined);
      await entry.abort();
    },
  };
}

/** An Active Directory write: pending from begin to commit/abort, then its USN marked own. */
async function markAdWrite(
  options: MarkOptions,
  intent: ChangeIntent,
  entry: JournalEntry,
): Promise<JournalEntry> {
  const keys = ownWriteKeys(options.keyPrefix);
  const names = pendingNames(intent);
  // One field per write (a counter could go negative once its key expired under a slow write).
  const write = randomUUID();
  const multi = options.redis.multi();
  for (const name of names)
    multi.hset(keys.pending(name), write, '1').pexpire(keys.pending(name), PENDING_TTL_MS);
  // Without the marks the feed may publish this write too: at least once, never lost.
  await multi.exec().catch(() => undefined);
  const settle = (own?: { field: string; usn: string }) => {
    const done = options.redis.multi();
    if (own) done.set(keys.own(own.field), markText(own.usn, write), 'EX', OWN_TTL_SECONDS);
    for (const name of names) done.hdel(keys.pending(name), write);
    return done.exec().then(() => undefined);
  };
  return {
    async commit(outcome) {
      // Marked before the commit publishes: the feed, once unblocked, finds the mark.
      const field = `${intent.resourceType}:${outcome.resourceId || intent.resourceId}`;
      await settle({ field, usn: usnOfVersion(outcome.version) }).catch(() => undefined);
      await entry.commit(outcome);
    },
    async abort() {
      await settle().catch(() => undefined);
      await entry.abort();
    },
  };
}

/**
 * The Retro Changelog feed's side: which delete records (no author) are the bridge's own. The
 * marks found are used up once the batch is handled (unless a new delete replaced them).
 */
export class OwnDeletes {
  readonly #redis: Redis;
  readonly #keys: ReturnType<typeof ownWriteKeys>;

  constructor(redis: Redis, keyPrefix: string) {
    this.#redis = redis;
    this.#keys = ownWriteKeys(keyPrefix);
  }

  async find(deletes: readonly { dn: string; id?: string | undefined }[]): Promise<OwnVerdict> {
    if (deletes.length === 0) return { own: [], usedUp: [] };
    const names = deletes.map((d) => deleteNames(d.dn, d.id));
    const marks = await this.#redis.mget(...names.flat().map((name) => this.#keys.ownDelete(name)));
    const usedUp: OwnVerdict['usedUp'] = [];
    let next = 0;
    const own = names.map((entryNames) => {
      let found = false;
      for (const name of entryNames) {
        const mark = marks[next++];
        if (typeof mark !== 'string') continue;
        found = true;
        usedUp.push({ field: name, mark });
      }
      return found;
    });
    return { own, usedUp };
  }

  async forget(usedUp: OwnVerdict['usedUp']): Promise<void> {
    if (usedUp.length === 0) return;
    await this.#redis.eval(
      FORGET_UNCHANGED,
      usedUp.length,
      ...usedUp.map((u) => this.#keys.ownDelete(u.field)),
      ...usedUp.map((u) => u.mark),
    );
  }
}

/** The feed's side: which entries are held back by a pending write, and which changes were own. */
export class OwnWrites {
  readonly #redis: Redis;
  readonly #keys: ReturnType<typeof ownWriteKeys>;

  constructor(redis: Redis, keyPrefix: string) {
    this.#redis = redis;
    this.#keys = ownWriteKeys(keyPrefix);
  }

  /** Whether each entry (type, id, DN) has a write of the bridge in flight. */
  async pending(entries: readonly { type: string; id: string; dn: string }[]): Promise<boolean[]> {
    if (entries.length === 0) return [];
    const names = entries.flatMap((e) => [`dn:${normalizeDn(e.dn)}`, `id:${e.type}:${e.id}`]);
    const pipeline = this.#redis.pipeline();
    for (const name of names) pipeline.exists(this.#keys.pending(name));
    const found = ((await pipeline.exec()) ?? []).map(([error, count]) => {
      if (error) throw error;
      return Number(count) > 0;
    });
    return entries.map((_, i) => found[2 * i] === true || found[2 * i + 1] === true);
  }

  /** Whether each change (field `type:id`, at `usn`) is the bridge's own, by the marks. */
  async own(changes: readonly { field: string; usn: number }[]): Promise<OwnVerdict> {
    if (changes.length === 0) return { own: [], usedUp: [] };
    const marks = await this.#redis.mget(...changes.map((c) => this.#keys.own(c.field)));
    const usedUp = new Map<string, string>();
    const own = changes.map((change, i) => {
      const mark = marks[i];
      if (mark === null || mark === undefined) return false;
      const usn = markUsn(mark);
      // A change before the mark's USN leaves it for the window that reads the write itself.
      if (usn === ANY_USN || change.usn >= Number(usn)) usedUp.set(change.field, mark);
      return usn === ANY_USN || change.usn <= Number(usn);
    });
    return { own, usedUp: [...usedUp].map(([field, mark]) => ({ field, mark })) };
  }

  /** Marks used up by a handled batch (a later change of the entry is a direct one). */
  async forget(usedUp: OwnVerdict['usedUp']): Promise<void> {
    if (usedUp.length === 0) return;
    await this.#redis.eval(
      FORGET_UNCHANGED,
      usedUp.length,
      ...usedUp.map((u) => this.#keys.own(u.field)),
      ...usedUp.map((u) => u.mark),
    );
  }
}

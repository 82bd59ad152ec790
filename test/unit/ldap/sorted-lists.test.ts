/**
 * Which kept VLV list a search may use: one query's own, young enough, made after the last write,
 * and not already being read. A clock under the test's control; connections are plain labels.
 */
import { describe, expect, it } from 'vitest';
import { type KeptList, SortedLists } from '../../../src/ldap/sorted-lists.ts';

const REUSE_MS = 1_000;

function setUp(options: { reuseMs?: number; maxLists?: number } = {}) {
  let clock = 0;
  const lists = new SortedLists<string>(options.reuseMs ?? REUSE_MS, {
    now: () => clock,
    ...(options.maxLists !== undefined ? { maxLists: options.maxLists } : {}),
  });
  const made = (connection: string, id: number): KeptList<string> => ({
    connection,
    contextId: Buffer.from([id]),
    takenAt: clock,
    generation: lists.generation,
  });
  return {
    lists,
    made,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('SortedLists', () => {
  it('offers a kept list to its own query only', () => {
    const { lists, made } = setUp();
    const list = made('c1', 1);
    lists.settle('query A', undefined, list);
    expect(lists.take('query B')).toBeUndefined();
    expect(lists.take('query A')).toBe(list);
  });

  it.each([
    ['just made', 0, true],
    ['1 ms before the reuse time ends', REUSE_MS - 1, true],
    ['at the reuse time', REUSE_MS, false],
    ['long after', REUSE_MS * 10, false],
  ])('a list %s is offered: %s', (_label, age, offered) => {
    const { lists, made, advance } = setUp();
    const list = made('c1', 1);
    lists.settle('q', undefined, list);
    advance(age);
    expect(lists.take('q')).toBe(offered ? list : undefined);
    // An expired list is forgotten, not offered later either.
    if (!offered) expect(lists.size).toBe(0);
  });

  it('age counts from the sort, not from the last reuse', () => {
    const { lists, made, advance } = setUp();
    const list = made('c1', 1);
    lists.settle('q', undefined, list);
    advance(REUSE_MS - 10);
    const taken = lists.take('q');
    lists.settle('q', taken, taken);
    advance(20);
    expect(lists.take('q')).toBeUndefined();
  });

  it('hands a list to one search at a time', () => {
    const { lists, made } = setUp();
    const list = made('c1', 1);
    lists.settle('q', undefined, list);
    const first = lists.take('q');
    expect(first).toBe(list);
    expect(lists.take('q')).toBeUndefined();
    lists.settle('q', first, first);
    expect(lists.take('q')).toBe(list);
  });

  it('a write (invalidate) ends every list, and refuses those whose search began before it', () => {
    const { lists, made } = setUp();
    lists.settle('q1', undefined, made('c1', 1));
    const beforeWrite = made('c2', 2); // its search began before the write
    lists.invalidate();
    expect(lists.take('q1')).toBeUndefined();
    lists.settle('q2', undefined, beforeWrite);
    expect(lists.take('q2')).toBeUndefined();
    const afterWrite = made('c2', 3);
    lists.settle('q2', undefined, afterWrite);
    expect(lists.take('q2')).toBe(afterWrite);
  });

  it('a list being read when a write starts is not kept after the read', () => {
    const { lists, made } = setUp();
    const list = made('c1', 1);
    lists.settle('q', undefined, list);
    const taken = lists.take('q');
    lists.invalidate();
    lists.settle('q', taken, taken);
    expect(lists.take('q')).toBeUndefined();
  });

  it('replaces a list the server no longer had with the one it answered with', () => {
    const { lists, made } = setUp();
    const old = made('c1', 1);
    lists.settle('q', undefined, old);
    const taken = lists.take('q');
    const fresh = made('c1', 2);
    lists.settle('q', taken, fresh);
    expect(lists.take('q')).toBe(fresh);
  });

  it('forgets a list whose search failed (settled with no answer)', () => {
    const { lists, made } = setUp();
    lists.settle('q', undefined, made('c1', 1));
    lists.settle('q', lists.take('q'), undefined);
    expect(lists.take('q')).toBeUndefined();
  });

  it('does not replace a list that another search is reading', () => {
    const { lists, made } = setUp();
    const reading = made('c1', 1);
    lists.settle('q', undefined, reading);
    const taken = lists.take('q');
    lists.settle('q', undefined, made('c2', 2)); // a concurrent fresh search of the same query
    lists.settle('q', taken, taken);
    expect(lists.take('q')).toBe(reading);
  });

  it('keeps nothing when reuse is off (0 ms)', () => {
    const { lists, made } = setUp({ reuseMs: 0 });
    lists.settle('q', undefined, made('c1', 1));
    expect(lists.size).toBe(0);
    expect(lists.take('q')).toBeUndefined();
  });

  it('remembers at most maxLists queries, forgetting the oldest first', () => {
    const { lists, made } = setUp({ maxLists: 2 });
    lists.settle('q1', undefined, made('c1', 1));
    lists.settle('q2', undefined, made('c1', 2));
    lists.settle('q3', undefined, made('c1', 3));
    expect(lists.size).toBe(2);
    expect(lists.take('q1')).toBeUndefined();
    expect(lists.take('q2')?.contextId).toEqual(Buffer.from([2]));
    expect(lists.take('q3')?.contextId).toEqual(Buffer.from([3]));
  });
});

describe('SortedLists.whenAvailable: waiting for a list instead of sorting again', () => {
  const settledWithin = async (promise: Promise<void> | undefined): Promise<boolean> => {
    if (!promise) return false;
    let done = false;
    void promise.then(() => {
      done = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    return done;
  };

  it('has nothing to wait for when no list is kept or being made, or reuse is off', () => {
    const { lists } = setUp();
    expect(lists.whenAvailable('q')).toBeUndefined();
    const off = setUp({ reuseMs: 0 }).lists;
    off.beginSort('q');
    expect(off.whenAvailable('q')).toBeUndefined();
  });

  it('has nothing to wait for when the kept list is free (take it instead)', () => {
    const { lists, made } = setUp();
    lists.settle('q', undefined, made('c1', 1));
    expect(lists.whenAvailable('q')).toBeUndefined();
  });

  it('wakes a search waiting for a list in use when that list is settled', async () => {
    const { lists, made } = setUp();
    lists.settle('q', undefined, made('c1', 1));
    const taken = lists.take('q');
    const waiting = lists.whenAvailable('q');
    expect(await settledWithin(waiting)).toBe(false);
    lists.settle('q', taken, taken);
    expect(await settledWithin(waiting)).toBe(true);
    expect(lists.take('q')).toBe(taken);
  });

  it('wakes a search waiting for a first sort when it ends, with or without a list', async () => {
    const { lists } = setUp();
    lists.beginSort('q');
    const waiting = lists.whenAvailable('q');
    expect(await settledWithin(waiting)).toBe(false);
    lists.endSort('q');
    expect(await settledWithin(waiting)).toBe(true);
    expect(lists.whenAvailable('q')).toBeUndefined();
  });

  it('wakes every waiter on a write (their lists are gone)', async () => {
    const { lists, made } = setUp();
    lists.settle('q', undefined, made('c1', 1));
    lists.take('q');
    const waiting = [lists.whenAvailable('q'), lists.whenAvailable('q')];
    lists.invalidate();
    for (const w of waiting) expect(await settledWithin(w)).toBe(true);
  });
});

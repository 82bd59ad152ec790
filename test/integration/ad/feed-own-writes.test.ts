/**
 * The marks of the bridge's own writes for the Active Directory feed and the 389-DS Retro
 * Changelog feed's authorless deletes (src/feed/own-writes.ts) in a real redis-server: the journal wrapper marks an entry pending from begin to commit/abort and
 * leaves the USN of its version; the feed's side reads them. The journal under the wrapper is a
 * recording stand-in (the wrapper is what is tested; the real journal has its own tests).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markingOwnWrites, OwnDeletes, OwnWrites } from '../../../src/feed/own-writes.ts';
import { type RunningRedis, startRedis } from '../../../src/localdev/redis.ts';
import type { ChangeIntent, ChangeJournal } from '../../../src/ports/events.ts';

const PREFIX = 'own-writes-test:';
const DN = 'CN=alice,CN=Users,DC=example,DC=test';
const ID = '2b25285f-8cfc-4a25-83b6-9c04d6a4fbd3';

let server: RunningRedis;
let redis: Redis;
const calls: string[] = [];

const journal: ChangeJournal = {
  async begin(intent) {
    calls.push(`begin ${intent.operation}`);
    return {
      async commit(outcome) {
        calls.push(`commit ${outcome.resourceId} ${outcome.version ?? '-'}`);
      },
      async abort() {
        calls.push('abort');
      },
    };
  },
  confirmationRequired: (type) => type === 'User',
};

const intent = (over: Partial<ChangeIntent> = {}): ChangeIntent => ({
  operation: 'modify',
  dn: DN,
  resourceId: ID,
  resourceType: 'User',
  actor: 'test',
  events: [],
  ...over,
});

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

describe("the bridge's own writes, marked for the AD feed", () => {
  const own = () => new OwnWrites(redis, PREFIX);
  const marking = (enabled: boolean) =>
    markingOwnWrites(journal, {
      redis,
      keyPrefix: PREFIX,
      marking: async () => (enabled ? 'ad' : undefined),
    });
  const entry = { type: 'User', id: ID, dn: DN };

  it('an entry is pending from begin to commit (by DN, in any letter case, and by id), then its USN is marked', async () => {
    const handle = await marking(true).begin(intent());
    expect(await own().pending([entry, { ...entry, dn: DN.toUpperCase(), id: 'other' }])).toEqual([
      true,
      true,
    ]);
    expect(await own().pending([{ type: 'User', id: ID, dn: 'CN=bob,CN=Users,DC=example,DC=test' }])).toEqual(
      [true],
    );
    await handle.commit({ resourceId: ID, version: 'W/"4012"' });
    expect(await own().pending([entry])).toEqual([false]);
    const field = `User:${ID}`;
    const verdict = await own().own([
      { field, usn: 4011 },
      { field, usn: 4012 },
      { field, usn: 4013 },
    ]);
    expect(verdict.own).toEqual([true, true, false]);
    await own().forget(verdict.usedUp);
    expect((await own().own([{ field, usn: 4012 }])).own).toEqual([false]);
    expect(calls.slice(-2)).toEqual(['begin modify', `commit ${ID} W/"4012"`]);
  });

  it('an add is pending under its new DN; committed without a version, any USN of it is its own', async () => {
    const newDn = 'CN=carol,CN=Users,DC=example,DC=test';
    const handle = await marking(true).begin(intent({ operation: 'add', dn: newDn, resourceId: undefined }));
    expect(await own().pending([{ type: 'User', id: 'not-known-yet', dn: newDn }])).toEqual([true]);
    await handle.commit({ resourceId: 'carol-id' });
    const verdict = await own().own([{ field: 'User:carol-id', usn: 999_999 }]);
    expect(verdict.own).toEqual([true]);
    await own().forget(verdict.usedUp);
    expect((await own().own([{ field: 'User:carol-id', usn: 1 }])).own).toEqual([false]);
  });

  it('a rename is pending under both DNs; an abort clears it and marks nothing', async () => {
    const newDn = 'CN=alicia,CN=Users,DC=example,DC=test';
    const handle = await marking(true).begin(intent({ newDn }));
    expect(await own().pending([{ type: 'User', id: 'x', dn: newDn }])).toEqual([true]);
    await handle.abort();
    expect(await own().pending([entry, { type: 'User', id: 'x', dn: newDn }])).toEqual([false, false]);
    expect((await own().own([{ field: `User:${ID}`, usn: 1 }])).own).toEqual([false]);
    expect(calls.at(-1)).toBe('abort');
  });

  it('two writes of one entry at once: it stays pending until both settled', async () => {
    const first = await marking(true).begin(intent());
    const second = await marking(true).begin(intent());
    await first.commit({ resourceId: ID, version: '10' });
    expect(await own().pending([entry])).toEqual([true]);
    await second.commit({ resourceId: ID, version: '11' });
    expect(await own().pending([entry])).toEqual([false]);
    await own().forget((await own().own([{ field: `User:${ID}`, usn: 11 }])).usedUp);
  });

  it('a write committed while the feed handles the previous one keeps its mark (the CI double publication)', async () => {
    const field = `User:${ID}`;
    const created = await marking(true).begin(intent({ operation: 'add', resourceId: undefined }));
    await created.commit({ resourceId: ID });
    // The feed reads the created entry (USN 20) and finds the create's mark ...
    const read = await own().own([{ field, usn: 20 }]);
    expect(read.own).toEqual([true]);
    // ... a PATCH commits (USN 21) before the feed is done with the window ...
    const patched = await marking(true).begin(intent());
    await patched.commit({ resourceId: ID, version: 'W/"21"' });
    await own().forget(read.usedUp);
    // ... and its change, read by the next window, is still the journal's.
    const next = await own().own([{ field, usn: 21 }]);
    expect(next.own).toEqual([true]);
    await own().forget(next.usedUp);
    expect((await own().own([{ field, usn: 21 }])).own).toEqual([false]);
  });

  it("a change read before the mark's USN leaves the mark for the change that reaches it", async () => {
    const field = `User:${ID}`;
    const handle = await marking(true).begin(intent());
    await handle.commit({ resourceId: ID, version: 'W/"31"' });
    const early = await own().own([{ field, usn: 30 }]);
    expect(early).toEqual({ own: [true], usedUp: [] });
    await own().forget(early.usedUp);
    const reached = await own().own([{ field, usn: 31 }]);
    expect(reached.own).toEqual([true]);
    await own().forget(reached.usedUp);
    expect((await own().own([{ field, usn: 31 }])).own).toEqual([false]);
  });

  it('while the directory is not AD nothing is marked; the journal still runs and answers', async () => {
    const wrapped = marking(false);
    const handle = await wrapped.begin(intent());
    expect(await own().pending([entry])).toEqual([false]);
    await handle.commit({ resourceId: ID, version: '5' });
    expect((await own().own([{ field: `User:${ID}`, usn: 5 }])).own).toEqual([false]);
    expect(wrapped.confirmationRequired?.('User')).toBe(true);
    expect(wrapped.confirmationRequired?.('Group')).toBe(false);
  });

  it('nothing asked, nothing read', async () => {
    expect(await own().pending([])).toEqual([]);
    expect(await own().own([])).toEqual({ own: [], usedUp: [] });
    await own().forget([]);
  });
});

describe("the bridge's own deletes, marked for the 389-DS Retro Changelog feed (its delete records name no author)", () => {
  const deletes = () => new OwnDeletes(redis, PREFIX);
  const marking = () =>
    markingOwnWrites(journal, { redis, keyPrefix: PREFIX, marking: async () => 'changelog-deletes' });
  const NS_ID = 'A1B2C3D4-E5F60718-293A4B5C-6D7E8F90';
  const record = { dn: 'uid=dora,ou=People,dc=example,dc=com', id: NS_ID.toLowerCase() };

  it('a delete is marked from before the directory write (by DN in any case, and by id); the feed uses the mark up', async () => {
    const handle = await marking().begin(
      intent({ operation: 'delete', dn: record.dn.toUpperCase(), resourceId: NS_ID }),
    );
    // The record can be read before the journal's commit: the mark is already there.
    const before = await deletes().find([record, { dn: 'uid=other,ou=People,dc=example,dc=com' }]);
    expect(before.own).toEqual([true, false]);
    await handle.commit({ resourceId: NS_ID });
    const read = await deletes().find([{ dn: 'uid=elsewhere,dc=example,dc=com', id: record.id }]);
    expect(read.own).toEqual([true]);
    await deletes().forget((await deletes().find([record])).usedUp);
    // A later delete at the same DN (re-created directly, deleted directly) is the directory's.
    expect((await deletes().find([record])).own).toEqual([false]);
  });

  it('an aborted delete leaves no mark; a delete marked again while the feed read the old mark keeps the new one', async () => {
    const aborted = await marking().begin(intent({ operation: 'delete', dn: record.dn, resourceId: NS_ID }));
    await aborted.abort();
    expect((await deletes().find([record])).own).toEqual([false]);
    const first = await marking().begin(intent({ operation: 'delete', dn: record.dn, resourceId: NS_ID }));
    await first.commit({ resourceId: NS_ID });
    const read = await deletes().find([record]);
    const second = await marking().begin(intent({ operation: 'delete', dn: record.dn, resourceId: NS_ID }));
    await second.commit({ resourceId: NS_ID });
    await deletes().forget(read.usedUp);
    expect((await deletes().find([record])).own).toEqual([true]);
  });

  it('with this marking only deletes are marked (a modify record carries its author)', async () => {
    const handle = await marking().begin(intent({ operation: 'modify', dn: record.dn, resourceId: NS_ID }));
    await handle.commit({ resourceId: NS_ID, version: '7' });
    expect((await deletes().find([{ dn: 'uid=nobody,dc=example,dc=com', id: 'nobody' }])).own).toEqual([
      false,
    ]);
    expect(await new OwnWrites(redis, PREFIX).pending([{ type: 'User', id: NS_ID, dn: record.dn }])).toEqual([
      false,
    ]);
    expect(await deletes().find([])).toEqual({ own: [], usedUp: [] });
  });
});

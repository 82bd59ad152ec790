/**
 * A keyed write whose instance died mid-request (issue 18; docs/architecture.md §Idempotency),
 * with nothing killed: the dead instance is simulated by what it leaves behind in the real Redis,
 * written with the real journal (its intent, carrying the Idempotency-Key claim) and an in-flight
 * lock of a short life that nobody renews, plus, where the write "happened", the entry in the real
 * slapd. A retry with the same key waits for the lock to lapse, then learns the write's fate from
 * the journal: a completed create is answered 201 with the resource as it now reads (Location,
 * ETag) and that answer is stored; a write that did not happen runs.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAIN_TOKEN_NAME } from '../../../src/config/load.ts';
import { REPLAYED_HEADER, requestFingerprint, scopeIdOf } from '../../../src/http/middleware/idempotency.ts';
import { idempotencyRedisKey } from '../../../src/idempotency/redis-store.ts';
import { RedisChangeJournal } from '../../../src/jobs/journal.ts';
import { journalKeys } from '../../../src/jobs/keys.ts';
import { EventPublisher } from '../../../src/jobs/publisher.ts';
import type { ChangeIntent, JournalEntry } from '../../../src/ports/events.ts';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const KEY_PREFIX = 'scim-bridge:';
/** The dead instance's lock: short, so the retry takes the key over within the wait it allows. */
const DEAD_LOCK_MS = 400;

let t: TestBridge;
let redis: Redis;
let publisher: EventPublisher;
let journal: RedisChangeJournal;

beforeAll(async () => {
  t = await startTestBridge({ env: { SCIM_BRIDGE_EVENTS_ENABLED: 'true' } });
  const url = t.bridge.local?.redis?.url;
  if (!url) throw new Error('the test bridge should run its own redis');
  redis = new Redis(url, { maxRetriesPerRequest: 1 });
  publisher = new EventPublisher({
    connection: redis,
    keyPrefix: KEY_PREFIX,
    events: { services: [], maxAttempts: 3, retentionSeconds: 60 },
  });
  journal = new RedisChangeJournal({ redis, keyPrefix: KEY_PREFIX, publisher });
}, 60_000);

afterAll(async () => {
  await publisher?.close();
  await redis?.quit();
  await t?.stop();
});

/** What the dead instance had: the key's claim, its lock, and the journal's intent for the create. */
async function deadInstanceCreate(
  userName: string,
  key: string,
): Promise<{ entry: JournalEntry; intentId: string }> {
  const body = { schemas: [USER], userName };
  const scope = { client: PLAIN_TOKEN_NAME, key };
  const fingerprint = requestFingerprint('POST', '/scim/v2/Users', body);
  await redis.set(
    idempotencyRedisKey(KEY_PREFIX, scope),
    JSON.stringify({ state: 'in-flight', fingerprint, owner: `dead-${randomUUID()}` }),
    'PX',
    DEAD_LOCK_MS,
  );
  const before = new Set(await redis.zrange(journalKeys(KEY_PREFIX).open, '0', '-1'));
  const intent: ChangeIntent = {
    operation: 'add',
    dn: `uid=${userName},ou=people,dc=example,dc=com`,
    resourceType: 'User',
    actor: PLAIN_TOKEN_NAME,
    events: [
      {
        eventId: randomUUID(),
        type: 'user.created',
        change: 'created',
        resourceType: 'User',
        changedAttributes: ['userName'],
        actor: PLAIN_TOKEN_NAME,
        origin: 'scim',
      },
    ],
    idempotency: { scopeId: scopeIdOf(scope), fingerprint },
  };
  const entry = await journal.begin(intent);
  const intentId = (await redis.zrange(journalKeys(KEY_PREFIX).open, '0', '-1')).find(
    (id) => !before.has(id),
  );
  if (!intentId) throw new Error('the journal should have recorded the intent');
  return { entry, intentId };
}

/** The dead instance's directory write: the user added (through the bridge, without a key). */
async function directoryWrite(userName: string): Promise<string> {
  const r = await t.request('POST', '/Users', { schemas: [USER], userName });
  expect(r.status).toBe(201);
  return r.body.id;
}

async function idsInDirectory(userName: string): Promise<string[]> {
  const client = await rootClientOf(t);
  try {
    const { searchEntries } = await client.search('ou=people,dc=example,dc=com', {
      scope: 'one',
      filter: `(uid=${userName})`,
      attributes: ['entryUUID'],
    });
    return searchEntries.map((e) => String(e.entryUUID));
  } finally {
    await client.unbind();
  }
}

function retry(userName: string, key: string) {
  return t.request('POST', '/Users', { schemas: [USER], userName }, { 'Idempotency-Key': key });
}

describe('a keyed create whose instance died before its answer was stored', () => {
  it('written, intent still pending: the retry settles it and answers 201 with the resource; the answer is stored', async () => {
    const userName = `fate-pending-${process.pid}`;
    const key = randomUUID();
    const { intentId } = await deadInstanceCreate(userName, key);
    const id = await directoryWrite(userName);

    const first = await retry(userName, key);
    expect(first.status, first.text).toBe(201);
    expect(first.body.id).toBe(id);
    expect(first.body.userName).toBe(userName);
    expect(first.headers.get('location')).toBe(`${t.baseUrl}/Users/${id}`);
    expect(first.headers.get('etag')).toBe(first.body.meta.version);
    expect(first.headers.get(REPLAYED_HEADER)).toBe(null);
    // The intent was settled (its events published), not left for recovery.
    expect(await redis.zscore(journalKeys(KEY_PREFIX).open, intentId)).toBe(null);

    const again = await retry(userName, key);
    expect(again.status).toBe(201);
    expect(again.headers.get(REPLAYED_HEADER)).toBe('true');
    expect(again.text).toBe(first.text);
    expect(await idsInDirectory(userName)).toEqual([id]);
  });

  it('written and committed: the retry answers 201 with the resource as it now reads', async () => {
    const userName = `fate-committed-${process.pid}`;
    const key = randomUUID();
    const { entry } = await deadInstanceCreate(userName, key);
    const id = await directoryWrite(userName);
    await entry.commit({ resourceId: id });
    // Changed since the first answer: the retry shows the resource as it reads now.
    const patched = await t.request('PATCH', `/Users/${id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Changed Since' }],
    });
    expect(patched.status).toBeLessThan(300);

    const r = await retry(userName, key);
    expect(r.status, r.text).toBe(201);
    expect(r.body.id).toBe(id);
    expect(r.body.displayName).toBe('Changed Since');
    expect(r.headers.get('location')).toBe(`${t.baseUrl}/Users/${id}`);
    expect(await idsInDirectory(userName)).toEqual([id]);
  });

  it('not written (the instance died before the directory write): the retry runs the create', async () => {
    const userName = `fate-unwritten-${process.pid}`;
    const key = randomUUID();
    const { intentId } = await deadInstanceCreate(userName, key);
    expect(await idsInDirectory(userName)).toEqual([]);

    const r = await retry(userName, key);
    expect(r.status, r.text).toBe(201);
    expect(r.body.userName).toBe(userName);
    expect(await idsInDirectory(userName)).toEqual([r.body.id]);
    expect(await redis.zscore(journalKeys(KEY_PREFIX).open, intentId)).toBe(null);
  });

  it('aborted by the directory (nothing written): the retry runs the create', async () => {
    const userName = `fate-aborted-${process.pid}`;
    const key = randomUUID();
    const { entry } = await deadInstanceCreate(userName, key);
    await entry.abort();

    const r = await retry(userName, key);
    expect(r.status, r.text).toBe(201);
    expect(await idsInDirectory(userName)).toEqual([r.body.id]);
  });

  it('the same key for a different request is not taken for its fate', async () => {
    const userName = `fate-other-${process.pid}`;
    const key = randomUUID();
    await deadInstanceCreate(userName, key);
    await directoryWrite(userName);
    // Another body under the key once the lock lapsed (before, it is 422): it runs.
    await new Promise((resolve) => setTimeout(resolve, DEAD_LOCK_MS + 100));
    const r = await t.request(
      'POST',
      '/Users',
      { schemas: [USER], userName: `${userName}-b` },
      { 'Idempotency-Key': key },
    );
    expect(r.status, r.text).toBe(201);
    expect(r.body.userName).toBe(`${userName}-b`);
  });

  it('the directory down while an intent is open: 503 with Retry-After and nothing run; after it returns, the retry settles it', async () => {
    const userName = `fate-undecided-${process.pid}`;
    const key = randomUUID();
    const { intentId } = await deadInstanceCreate(userName, key);
    const slapd = t.bridge.local?.slapd;
    if (!slapd) throw new Error('the test bridge should run its own slapd');
    await new Promise((resolve) => setTimeout(resolve, DEAD_LOCK_MS + 100));
    process.kill(slapd.pid, 'SIGKILL');
    let during: Awaited<ReturnType<typeof retry>>;
    try {
      during = await retry(userName, key);
    } finally {
      await slapd.restart();
    }
    expect(during.status, during.text).toBe(503);
    expect(during.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await redis.zscore(journalKeys(KEY_PREFIX).open, intentId)).not.toBe(null);

    let after = await retry(userName, key);
    for (let i = 0; i < 50 && after.status === 503; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await retry(userName, key);
    }
    expect(after.status, after.text).toBe(201);
    expect(await idsInDirectory(userName)).toEqual([after.body.id]);
  });
});

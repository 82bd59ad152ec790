/**
 * Idempotency-Key end to end over HTTP against the real stack (slapd + redis-server). Outcomes are
 * counted in the directory with a separate ldapts client, not only read from the bridge's answers.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyRedisKey } from '../../../src/idempotency/redis-store.ts';
import { type ScimResponse, startTestBridge, type TestBridge } from '../../harness/bridge.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PEOPLE = 'ou=People,dc=example,dc=com';

function newUser(userName: string) {
  return {
    schemas: [USER],
    userName,
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [{ value: `${userName}@example.org`, type: 'work', primary: true }],
    active: true,
  };
}

function key(): string {
  return `k-${randomBytes(12).toString('hex')}`;
}

async function connect(t: TestBridge): Promise<Client> {
  const slapd = t.bridge.local?.slapd;
  if (!slapd) throw new Error('the test bridge should run its own slapd');
  const client = new Client({ url: slapd.url });
  await client.bind(slapd.rootDn, slapd.rootPassword);
  return client;
}

/** Entries whose uid is `userName`, counted in the directory itself. */
async function countUid(ldap: Client, userName: string): Promise<number> {
  const { searchEntries } = await ldap.search(PEOPLE, {
    scope: 'one',
    filter: `(uid=${userName})`,
    attributes: ['1.1'],
  });
  return searchEntries.length;
}

async function peopleCount(ldap: Client): Promise<number> {
  const { searchEntries } = await ldap.search(PEOPLE, {
    scope: 'one',
    filter: '(objectClass=inetOrgPerson)',
    attributes: ['1.1'],
  });
  return searchEntries.length;
}

function post(t: TestBridge, body: unknown, idempotencyKey?: string, headers: Record<string, string> = {}) {
  return t.request('POST', '/Users', body, {
    ...(idempotencyKey !== undefined ? { 'Idempotency-Key': idempotencyKey } : {}),
    ...headers,
  });
}

function replayed(r: ScimResponse): boolean {
  return r.headers.get('idempotency-replayed') === 'true';
}

const OTHER_TOKEN = randomBytes(18).toString('base64url');

describe('Idempotency-Key on SCIM writes', () => {
  let t: TestBridge;
  let ldap: Client;

  beforeAll(async () => {
    t = await startTestBridge({
      seed: 'sample',
      env: {
        SCIM_BRIDGE_AUTH_TOKENS: JSON.stringify([
          { name: 'other-client', sha256: createHash('sha256').update(OTHER_TOKEN).digest('hex') },
        ]),
      },
    });
    ldap = await connect(t);
  });

  afterAll(async () => {
    await ldap?.unbind();
    await t?.stop();
  });

  it('replays a repeated POST byte for byte: same id, one entry, no second directory write', async () => {
    const k = key();
    const first = await post(t, newUser('idem.repeat'), k);
    expect(first.status).toBe(201);
    expect(replayed(first)).toBe(false);
    expect(await countUid(ldap, 'idem.repeat')).toBe(1);

    const second = await post(t, newUser('idem.repeat'), k);
    expect(second.status).toBe(201);
    expect(replayed(second)).toBe(true);
    expect(second.text).toBe(first.text);
    expect(second.body.id).toBe(first.body.id);
    for (const header of ['location', 'etag', 'content-type']) {
      expect(second.headers.get(header), header).toBe(first.headers.get(header));
    }
    expect(await countUid(ldap, 'idem.repeat')).toBe(1);

    // The replay does not reach the directory: with the entry gone, it still answers 201 and the id.
    await ldap.del(`uid=idem.repeat,${PEOPLE}`);
    const third = await post(t, newUser('idem.repeat'), k);
    expect(third.status).toBe(201);
    expect(third.text).toBe(first.text);
    expect(await countUid(ldap, 'idem.repeat')).toBe(0);
  });

  it('treats a body with another layout and key order as the same request', async () => {
    const k = key();
    const first = await post(t, newUser('idem.layout'), k);
    expect(first.status).toBe(201);
    const u = newUser('idem.layout');
    const reordered = `{\n  "active": true,\n  "emails": ${JSON.stringify(u.emails)},\n  "userName" : "idem.layout",\n  "schemas": ["${USER}"],  "name": {"familyName":"Lovelace","givenName":"Ada"}\n}`;
    const second = await post(t, reordered, k);
    expect(second.status).toBe(201);
    expect(replayed(second)).toBe(true);
    expect(second.body.id).toBe(first.body.id);
    expect(await countUid(ldap, 'idem.layout')).toBe(1);
  });

  it('refuses the same key with a different body with 422 and creates nothing', async () => {
    const k = key();
    const first = await post(t, newUser('idem.first'), k);
    expect(first.status).toBe(201);
    const before = await peopleCount(ldap);
    const other = await post(t, newUser('idem.second'), k);
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ schemas: [ERROR], status: '422' });
    expect(other.body.detail).toMatch(/different request/);
    expect(await countUid(ldap, 'idem.second')).toBe(0);
    expect(await peopleCount(ldap)).toBe(before);
  });

  it('executes 20 concurrent identical POSTs with one key once; all 20 get the same id', async () => {
    const k = key();
    const before = await peopleCount(ldap);
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(t, newUser('idem.burst'), k)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    const ids = new Set(responses.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(responses.filter((r) => !replayed(r))).toHaveLength(1);
    expect(await countUid(ldap, 'idem.burst')).toBe(1);
    expect(await peopleCount(ldap)).toBe(before + 1);
  });

  it('scopes keys per client: two tokens using one key do not see each other', async () => {
    const k = key();
    const mine = await post(t, newUser('idem.client.a'), k);
    const theirs = await post(t, newUser('idem.client.b'), k, { Authorization: `Bearer ${OTHER_TOKEN}` });
    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(replayed(theirs)).toBe(false);
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(await countUid(ldap, 'idem.client.a')).toBe(1);
    expect(await countUid(ldap, 'idem.client.b')).toBe(1);
    // Each client's own repeat replays its own response.
    const theirsAgain = await post(t, newUser('idem.client.b'), k, {
      Authorization: `Bearer ${OTHER_TOKEN}`,
    });
    expect(replayed(theirsAgain)).toBe(true);
    expect(theirsAgain.body.id).toBe(theirs.body.id);
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['with a space', 'a b'],
  ])('refuses a key that is %s with 400 invalidValue and creates nothing', async (_name, value) => {
    const r = await post(t, newUser('idem.badkey'), value);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ schemas: [ERROR], scimType: 'invalidValue' });
    expect(await countUid(ldap, 'idem.badkey')).toBe(0);
  });

  it('stores 4xx answers too: a repeat of a refused request gets the same error, replayed', async () => {
    const k = key();
    const bad = { schemas: [USER], name: { givenName: 'No' } }; // userName missing
    const first = await post(t, bad, k);
    expect(first.status).toBe(400);
    const second = await post(t, bad, k);
    expect(second.status).toBe(400);
    expect(replayed(second)).toBe(true);
    expect(second.text).toBe(first.text);
  });

  it('replays a DELETE (204) instead of answering 404 the second time', async () => {
    const created = await post(t, newUser('idem.delete'));
    expect(created.status).toBe(201);
    const k = key();
    const first = await t.request('DELETE', `/Users/${created.body.id}`, undefined, { 'Idempotency-Key': k });
    expect(first.status).toBe(204);
    expect(await countUid(ldap, 'idem.delete')).toBe(0);
    const second = await t.request('DELETE', `/Users/${created.body.id}`, undefined, {
      'Idempotency-Key': k,
    });
    expect(second.status).toBe(204);
    expect(replayed(second)).toBe(true);
    const unkeyed = await t.request('DELETE', `/Users/${created.body.id}`);
    expect(unkeyed.status).toBe(404);
  });

  it('leaves requests without the header alone: a repeated unkeyed POST is refused as a duplicate', async () => {
    expect((await post(t, newUser('idem.unkeyed'))).status).toBe(201);
    const again = await post(t, newUser('idem.unkeyed'));
    expect(again.status).toBe(409);
    expect(await countUid(ldap, 'idem.unkeyed')).toBe(1);
  });
});

describe('Idempotency-Key expiry and a Redis outage', () => {
  let t: TestBridge;
  let ldap: Client;
  let redis: Redis;

  beforeAll(async () => {
    // ttlSeconds >= lockTtlSeconds >= server.requestTimeoutMs (config validation), so all three are small.
    t = await startTestBridge({
      env: {
        SCIM_BRIDGE_SERVER_REQUEST_TIMEOUT_MS: '1000',
        SCIM_BRIDGE_IDEMPOTENCY_LOCK_TTL_SECONDS: '1',
        SCIM_BRIDGE_IDEMPOTENCY_TTL_SECONDS: '1',
      },
    });
    ldap = await connect(t);
    const url = t.bridge.local?.redis?.url;
    if (!url) throw new Error('the test bridge should run its own redis');
    redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
    await redis.connect();
  });

  afterAll(async () => {
    redis?.disconnect();
    await ldap?.unbind();
    await t?.stop();
  });

  it('forgets a key after its TTL: the repeat executes again (and meets the existing user)', async () => {
    const k = key();
    const first = await post(t, newUser('idem.ttl'), k);
    expect(first.status).toBe(201);
    const redisKey = idempotencyRedisKey('scim-bridge:', { client: 'auth.token', key: k });
    expect(await redis.pttl(redisKey)).toBeGreaterThan(0);
    expect(await redis.pttl(redisKey)).toBeLessThanOrEqual(1000);
    const repeat = await post(t, newUser('idem.ttl'), k);
    expect(replayed(repeat)).toBe(true);

    // Wait (bounded) for Redis to expire the record.
    const deadline = Date.now() + 5_000;
    while ((await redis.exists(redisKey)) === 1 && Date.now() < deadline) await sleep(100);
    expect(await redis.exists(redisKey)).toBe(0);

    const late = await post(t, newUser('idem.ttl'), k);
    expect(replayed(late)).toBe(false);
    expect(late.status).toBe(409); // executed again: the user exists, uniqueness
    expect(await countUid(ldap, 'idem.ttl')).toBe(1);
  });

  it('answers 503 with Retry-After to keyed writes when Redis is down, and executes nothing', async () => {
    const before = await peopleCount(ldap);
    await t.bridge.local?.redis?.stop();
    const keyed = await post(t, newUser('idem.down'), key());
    expect(keyed.status).toBe(503);
    expect(keyed.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(keyed.body).toMatchObject({ schemas: [ERROR], status: '503' });
    expect(await countUid(ldap, 'idem.down')).toBe(0);

    const read = await t.request('GET', '/Users?count=1');
    expect(read.status).toBe(200);
    const unkeyed = await post(t, newUser('idem.down.unkeyed'));
    expect(unkeyed.status).toBe(201);
    expect(await peopleCount(ldap)).toBe(before + 1);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

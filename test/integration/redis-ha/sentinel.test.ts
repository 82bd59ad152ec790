/**
 * Redis Sentinel (issue 18): real processes on free loopback ports, a Redis master, a replica and
 * one `redis-server --sentinel`; the bridge is given only `redis.sentinels` and `redis.name`
 * (ioredis asks the sentinel for the master). `SENTINEL FAILOVER` promotes the replica while
 * creates with an Idempotency-Key keep coming; each is retried (bounded) on a 5xx, and every one
 * ends 201, exactly once in the directory, with its key stored on the new master. The failover
 * time and the writes' retries are printed, not asserted.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAIN_TOKEN_NAME } from '../../../src/config/load.ts';
import { scopeIdOf } from '../../../src/http/middleware/idempotency.ts';
import { idempotencyRedisKey } from '../../../src/idempotency/redis-store.ts';
import { type RunningRedis, startRedis } from '../../../src/localdev/redis.ts';
import { type RunningSentinel, startSentinel } from '../../../src/localdev/redis-sentinel.ts';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const NAME = 'bridge-master';
const WRITES = 30;
const MAX_ATTEMPTS = 100;

let master: RunningRedis;
let replica: RunningRedis;
let sentinel: RunningSentinel;
let t: TestBridge;
let sentinelClient: Redis;

async function until<T>(what: string, attempt: () => Promise<T | undefined>, tries = 200): Promise<T> {
  for (let n = 0; n < tries; n++) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not within ${tries * 100} ms`);
}

async function roleOf(redis: RunningRedis): Promise<string> {
  const client = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  try {
    return /^role:(\w+)/m.exec(await client.info('replication'))?.[1] ?? 'unknown';
  } finally {
    client.disconnect();
  }
}

async function masterPortBySentinel(): Promise<number> {
  const [, port] = (await sentinelClient.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)) as string[];
  return Number(port);
}

beforeAll(async () => {
  master = await startRedis();
  replica = await startRedis({ replicaOf: master.port });
  await until('the replica in sync', async () => {
    const client = new Redis(replica.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      return /master_link_status:up/.test(await client.info('replication')) ? true : undefined;
    } finally {
      client.disconnect();
    }
  });
  sentinel = await startSentinel({ masterPort: master.port, name: NAME });
  sentinelClient = new Redis(sentinel.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  // The sentinel learns the replica from the master's INFO.
  await until('the sentinel knowing the replica', async () => {
    const replicas = (await sentinelClient.call('SENTINEL', 'REPLICAS', NAME)) as string[][];
    return replicas.some((fields) => fields.join(' ').includes(`port ${replica.port}`)) ? true : undefined;
  });
  t = await startTestBridge({
    env: {
      SCIM_BRIDGE_REDIS_SENTINELS: JSON.stringify([sentinel.address]),
      SCIM_BRIDGE_REDIS_NAME: NAME,
      // Each write's journal intent is on the replica before the directory is written.
      SCIM_BRIDGE_REDIS_REPLICAS_TO_ACKNOWLEDGE: '1',
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_SERVER_REQUEST_TIMEOUT_MS: '5000',
      SCIM_BRIDGE_IDEMPOTENCY_LOCK_TTL_SECONDS: '5',
    },
  });
}, 90_000);

afterAll(async () => {
  await t?.stop();
  sentinelClient?.disconnect();
  await sentinel?.stop();
  await replica?.stop();
  await master?.stop();
});

/** A keyed create, retried with its key on a 5xx or no answer (bounded); its last answer and tries. */
async function keyedCreate(
  userName: string,
): Promise<{ status: number; id?: string; attempts: number; key: string }> {
  const key = randomUUID();
  let status = 0;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const r = await t
      .request('POST', '/Users', { schemas: [USER], userName }, { 'Idempotency-Key': key })
      .catch(() => undefined);
    status = r?.status ?? 0;
    if (r && status < 500 && !(status === 409 && r.headers.get('retry-after'))) {
      return { status, id: r.body?.id, attempts: attempt, key };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { status, attempts: MAX_ATTEMPTS, key };
}

async function usersInDirectory(prefix: string): Promise<Map<string, string[]>> {
  const client = await rootClientOf(t);
  try {
    const { searchEntries } = await client.search('ou=people,dc=example,dc=com', {
      scope: 'one',
      filter: `(uid=${prefix}*)`,
      attributes: ['uid', 'entryUUID'],
    });
    const users = new Map<string, string[]>();
    for (const e of searchEntries)
      users.set(String(e.uid), [...(users.get(String(e.uid)) ?? []), String(e.entryUUID)]);
    return users;
  } finally {
    await client.unbind();
  }
}

describe('Redis Sentinel', () => {
  it('the bridge finds the master through the sentinel and goes on writing across SENTINEL FAILOVER', async () => {
    expect(t.bridge.local?.redis, 'no local Redis: the sentinel names the master').toBe(undefined);
    const before = await keyedCreate('sentinel-before');
    expect(before.status).toBe(201);
    expect(await masterPortBySentinel()).toBe(master.port);

    const started = performance.now();
    await sentinelClient.call('SENTINEL', 'FAILOVER', NAME);
    const writes = (async () => {
      const results = [];
      for (let i = 0; i < WRITES; i++) results.push(await keyedCreate(`sentinel-w${i}`));
      return results;
    })();
    const promotedMs = await until('the replica promoted', async () =>
      (await masterPortBySentinel()) === replica.port ? performance.now() - started : undefined,
    );
    const results = await writes;
    const writtenMs = performance.now() - started;
    const retried = results.filter((r) => r.attempts > 1);
    const promoted = new Redis(replica.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    const keyOf = (key: string) => idempotencyRedisKey('scim-bridge:', { client: PLAIN_TOKEN_NAME, key });
    const fateOf = (key: string) =>
      `scim-bridge:journal:fate:${scopeIdOf({ client: PLAIN_TOKEN_NAME, key })}`;
    let kept = 0;
    let fates = 0;
    for (const r of results) {
      kept += await promoted.exists(keyOf(r.key));
      fates += await promoted.exists(fateOf(r.key));
    }
    console.log(
      `Sentinel failover: replica promoted ${Math.round(promotedMs)} ms after SENTINEL FAILOVER; ` +
        `${WRITES} keyed creates done ${Math.round(writtenMs)} ms after it, ${retried.length} needed retries ` +
        `(most attempts: ${Math.max(...results.map((r) => r.attempts))}); ` +
        `${kept} of their ${WRITES} idempotency records are on the new master (Redis replicates asynchronously: ` +
        `what the old master acknowledged before it was demoted is lost); ${fates} of their ${WRITES} journal records ` +
        '(intent or fate, held by a replica before each directory write) are there',
    );

    expect(results.map((r) => r.status)).toEqual(Array(WRITES).fill(201));
    // redis.replicasToAcknowledge 1: every write's journal record survived the failover.
    expect(fates).toBe(WRITES);
    expect(await roleOf(replica)).toBe('master');
    const users = await usersInDirectory('sentinel-w');
    expect(users.size).toBe(WRITES);
    for (const [i, r] of results.entries()) expect(users.get(`sentinel-w${i}`)).toEqual([r.id]);
    // A write after the failover lands on the new master (its idempotency record is there).
    const after = await keyedCreate('sentinel-after');
    expect(after.status).toBe(201);
    try {
      expect(await promoted.exists(keyOf(after.key))).toBe(1);
    } finally {
      promoted.disconnect();
    }
    const ready = await fetch(`${t.bridge.url}/ready`).then((r) => r.json());
    expect(ready.checks.redis.ok).toBe(true);
  });
});

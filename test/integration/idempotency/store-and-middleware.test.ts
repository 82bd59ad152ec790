/**
 * The Redis idempotency store against a real redis-server, and the middleware's timing paths
 * (in-flight waits, 409 when the first request takes too long, 5xx releasing the key) through a
 * small Koa app whose handler the test controls.
 */
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import Koa from 'koa';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jsonBody } from '../../../src/http/middleware/body.ts';
import { scimErrors } from '../../../src/http/middleware/errors.ts';
import { idempotency } from '../../../src/http/middleware/idempotency.ts';
import { idempotencyRedisKey, RedisIdempotencyStore } from '../../../src/idempotency/redis-store.ts';
import { type RunningRedis, startRedis } from '../../../src/localdev/redis.ts';
import type { StoredResponse } from '../../../src/ports/idempotency.ts';
import { ScimError } from '../../../src/scim/errors.ts';

let server: RunningRedis;
let redis: Redis;
const PREFIX = 'test:';

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  await redis.connect();
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

beforeEach(async () => {
  await redis.flushdb();
});

const RESPONSE: StoredResponse = {
  status: 201,
  headers: { Location: 'http://x/Users/1', 'Content-Type': 'application/scim+json' },
  bodyBase64: Buffer.from('{"id":"1"}').toString('base64'),
};

describe('RedisIdempotencyStore', () => {
  const scope = { client: 'idp', key: 'k1' };

  it('hashes client and key into the key name under the prefix', () => {
    const name = idempotencyRedisKey(PREFIX, scope);
    expect(name).toMatch(/^test:idem:[0-9a-f]{64}:[0-9a-f]{64}$/);
    expect(name).not.toContain('idp');
    expect(idempotencyRedisKey(PREFIX, { client: 'other', key: 'k1' })).not.toBe(name);
    expect(idempotencyRedisKey(PREFIX, { client: 'idp', key: 'k2' })).not.toBe(name);
  });

  it('locks once, completes only for the owner, then returns the stored response with the TTL', async () => {
    const store = new RedisIdempotencyStore(redis, { keyPrefix: PREFIX, ttlSeconds: 60, lockTtlSeconds: 5 });
    expect(await store.begin(scope, 'fp', 'owner-1')).toEqual({ acquired: true });
    const key = idempotencyRedisKey(PREFIX, scope);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(5000);
    expect(await store.begin(scope, 'fp', 'owner-2')).toEqual({
      acquired: false,
      record: { state: 'in-flight', fingerprint: 'fp', owner: 'owner-1' },
    });
    expect(await store.complete(scope, 'owner-2', 'fp', RESPONSE)).toBe(false);
    expect(await store.release(scope, 'owner-2')).toBe(false);
    expect(await store.complete(scope, 'owner-1', 'fp', RESPONSE)).toBe(true);
    expect(await redis.pttl(key)).toBeGreaterThan(5000);
    expect(await store.begin(scope, 'fp', 'owner-3')).toEqual({
      acquired: false,
      record: { state: 'done', fingerprint: 'fp', response: RESPONSE },
    });
    // A done record is not released by anyone.
    expect(await store.release(scope, 'owner-1')).toBe(false);
    expect(await redis.exists(key)).toBe(1);
  });

  it('release frees the key for the next request', async () => {
    const store = new RedisIdempotencyStore(redis, { keyPrefix: PREFIX, ttlSeconds: 60, lockTtlSeconds: 5 });
    expect(await store.begin(scope, 'fp', 'a')).toEqual({ acquired: true });
    expect(await store.release(scope, 'a')).toBe(true);
    expect(await store.begin(scope, 'fp', 'b')).toEqual({ acquired: true });
  });

  it('a lock expires after lockTtlSeconds, and its late owner cannot overwrite the next owner', async () => {
    const store = new RedisIdempotencyStore(redis, { keyPrefix: PREFIX, ttlSeconds: 60, lockTtlSeconds: 1 });
    expect(await store.begin(scope, 'fp', 'slow')).toEqual({ acquired: true });
    const key = idempotencyRedisKey(PREFIX, scope);
    const deadline = Date.now() + 3_000;
    while ((await redis.exists(key)) === 1 && Date.now() < deadline) await sleep(50);
    expect(await store.begin(scope, 'fp', 'next')).toEqual({ acquired: true });
    expect(await store.complete(scope, 'slow', 'fp', RESPONSE)).toBe(false);
    expect(await store.begin(scope, 'fp', 'third')).toMatchObject({
      acquired: false,
      record: { state: 'in-flight', owner: 'next' },
    });
  });

  it('extend renews only the lock of its owner', async () => {
    const store = new RedisIdempotencyStore(redis, { keyPrefix: PREFIX, ttlSeconds: 60, lockTtlSeconds: 1 });
    const key = idempotencyRedisKey(PREFIX, scope);
    expect(await store.begin(scope, 'fp', 'a')).toEqual({ acquired: true });
    await sleep(600);
    expect(await store.extend(scope, 'b')).toBe(false);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(400);
    expect(await store.extend(scope, 'a')).toBe(true);
    expect(await redis.pttl(key)).toBeGreaterThan(600);
    expect(await store.complete(scope, 'a', 'fp', RESPONSE)).toBe(true);
    expect(await store.extend(scope, 'a')).toBe(false);
  });

  it('rejects when Redis cannot be reached', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    const store = new RedisIdempotencyStore(dead, { keyPrefix: PREFIX, ttlSeconds: 60, lockTtlSeconds: 5 });
    await expect(store.begin(scope, 'fp', 'x')).rejects.toThrow();
    dead.disconnect();
  });
});

/** A Koa app shaped like the bridge's stack around a handler the test controls. */
async function appWith(
  handler: (ctx: Koa.Context) => Promise<void>,
  options: { lockTtlSeconds?: number; maxWaitMs?: number } = {},
) {
  const app = new Koa();
  app.silent = true;
  app.use(scimErrors(pino({ level: 'silent' })));
  app.use(async (ctx, next) => {
    ctx.state.principal = { name: ctx.get('X-Client') || 'client' };
    await next();
  });
  app.use(jsonBody(10_000));
  app.use(
    idempotency({
      store: new RedisIdempotencyStore(redis, {
        keyPrefix: PREFIX,
        ttlSeconds: 60,
        lockTtlSeconds: options.lockTtlSeconds ?? 5,
      }),
      lockTtlSeconds: options.lockTtlSeconds ?? 5,
      ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    }),
  );
  app.use(handler);
  const listening = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => listening.once('listening', resolve));
  const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  return {
    send: (key: string, body: unknown = { a: 1 }) =>
      fetch(`${url}/Things`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/scim+json', 'Idempotency-Key': key },
        body: JSON.stringify(body),
      }),
    close: () =>
      new Promise<void>((resolve) => {
        listening.close(() => resolve());
        listening.closeAllConnections();
      }),
  };
}

describe('idempotency middleware timing', () => {
  it('a duplicate arriving while the first runs waits and replays its result', async () => {
    let executions = 0;
    const app = await appWith(async (ctx) => {
      executions++;
      await sleep(300);
      ctx.status = 201;
      ctx.set('Content-Type', 'application/scim+json');
      ctx.body = JSON.stringify({ n: executions });
    });
    try {
      const first = app.send('wait');
      await sleep(50);
      const second = await app.send('wait');
      const firstResponse = await first;
      expect(executions).toBe(1);
      expect(second.status).toBe(201);
      expect(second.headers.get('idempotency-replayed')).toBe('true');
      expect(await second.text()).toBe(await firstResponse.text());
    } finally {
      await app.close();
    }
  });

  it('answers 409 with Retry-After when the first request does not finish within the wait bound', async () => {
    let executions = 0;
    const app = await appWith(
      async (ctx) => {
        executions++;
        await sleep(800);
        ctx.status = 201;
        ctx.body = 'done';
      },
      { maxWaitMs: 200 },
    );
    try {
      const first = app.send('slow');
      await sleep(50);
      const started = Date.now();
      const second = await app.send('slow');
      expect(second.status).toBe(409);
      expect(second.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(Date.now() - started).toBeLessThan(700);
      expect((await first).status).toBe(201);
      expect(executions).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('refuses a different body on an in-flight key with 422 at once', async () => {
    const app = await appWith(async (ctx) => {
      await sleep(400);
      ctx.status = 201;
      ctx.body = 'done';
    });
    try {
      const first = app.send('busy', { a: 1 });
      await sleep(50);
      const other = await app.send('busy', { a: 2 });
      expect(other.status).toBe(422);
      expect((await first).status).toBe(201);
    } finally {
      await app.close();
    }
  });

  it('keeps the lock alive while a request runs longer than the lock TTL: no second execution', async () => {
    let executions = 0;
    const app = await appWith(
      async (ctx) => {
        executions++;
        await sleep(1600);
        ctx.status = 201;
        ctx.body = 'slow but once';
      },
      { lockTtlSeconds: 1 },
    );
    try {
      const first = app.send('long');
      await sleep(1200);
      const second = await app.send('long');
      expect((await first).status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.headers.get('idempotency-replayed')).toBe('true');
      expect(executions).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('does not store a 5xx: the lock is released and a retry executes again', async () => {
    let executions = 0;
    const app = await appWith(async (ctx) => {
      executions++;
      if (executions === 1) throw ScimError.unavailable('directory down', 1);
      if (executions === 2) throw new Error('boom');
      ctx.status = 201;
      ctx.body = 'ok';
    });
    try {
      expect((await app.send('retry')).status).toBe(503);
      expect((await app.send('retry')).status).toBe(500);
      const third = await app.send('retry');
      expect(third.status).toBe(201);
      expect(third.headers.get('idempotency-replayed')).toBeNull();
      const fourth = await app.send('retry');
      expect(fourth.headers.get('idempotency-replayed')).toBe('true');
      expect(executions).toBe(3);
    } finally {
      await app.close();
    }
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

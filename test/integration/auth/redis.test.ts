import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IssuedTokens, tokenId } from '../../../src/auth/issued-tokens.ts';
import { RedisReplayCache } from '../../../src/auth/saml/replay-cache.ts';
import { type RunningRedis, startRedis } from '../../../src/localdev/redis.ts';

let redis: RunningRedis;
const clients: Redis[] = [];

function client(): Redis {
  const c = new Redis(redis.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await redis?.stop();
});

describe('RedisReplayCache', () => {
  it('lets an (issuer, ID) through once across instances, until its TTL', async () => {
    const a = new RedisReplayCache(client(), 'test:replay:');
    const b = new RedisReplayCache(client(), 'test:replay:');
    expect(await a.claim('https://idp/', '_1', 300)).toBe(true);
    expect(await b.claim('https://idp/', '_1', 300)).toBe(false);
    expect(await b.claim('https://other-idp/', '_1', 300)).toBe(true);
    const keys = await client().keys('test:replay:*');
    expect(keys).toHaveLength(2);
    expect(await client().pttl(keys[0]!)).toBeLessThanOrEqual(300);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await a.claim('https://idp/', '_1', 300)).toBe(true);
  });

  it('rejects (never lets through) when Redis cannot answer', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    dead.on('error', () => undefined);
    await expect(new RedisReplayCache(dead).claim('i', 'x', 1000)).rejects.toThrow();
    dead.disconnect();
  });
});

describe('IssuedTokens', () => {
  const principal = { name: 'provisioner@example.test', issuer: 'https://idp/' };

  it('issues a random token that any instance can look up; Redis holds only its hash', async () => {
    const one = new IssuedTokens(client(), { prefix: 'test:token:' });
    const other = new IssuedTokens(client(), { prefix: 'test:token:' });
    const issued = await one.issue(principal, ['users:read'], 60);
    expect(issued.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(issued.id).toBe(tokenId(issued.token));
    const grant = await other.lookup(issued.token);
    expect(grant).toMatchObject({ principal, scopes: ['users:read'] });
    const keys = await client().keys('test:token:*');
    expect(keys).toEqual([`test:token:${issued.id}`]);
    const stored = await client().get(keys[0]!);
    expect(stored).not.toContain(issued.token);
    const ttl = await client().ttl(keys[0]!);
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('answers nothing for unknown, malformed, revoked and expired tokens', async () => {
    const tokens = new IssuedTokens(client(), { prefix: 'test:token2:' });
    expect(await tokens.lookup('x'.repeat(43))).toBeUndefined();
    expect(await tokens.lookup('not a token')).toBeUndefined();
    const a = await tokens.issue(principal, ['admin'], 60);
    expect(await tokens.revoke({ token: a.token })).toBe(true);
    expect(await tokens.lookup(a.token)).toBeUndefined();
    const b = await tokens.issue(principal, ['admin'], 60);
    expect(await tokens.revoke({ id: b.id })).toBe(true);
    expect(await tokens.revoke({ id: b.id })).toBe(false);
    const c = await tokens.issue(principal, ['admin'], 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await tokens.lookup(c.token)).toBeUndefined();
  });

  it('with a cache, a revocation on one instance reaches the cache of another through pub/sub', async () => {
    const prefix = 'test:token3:';
    const one = new IssuedTokens(client(), { prefix, cacheMs: 60_000 });
    const other = new IssuedTokens(client(), { prefix, cacheMs: 60_000 });
    const subscriber = client();
    subscriber.on('message', (_channel: string, id: string) => other.forget(id));
    await subscriber.subscribe(other.revocationChannel);
    const issued = await one.issue(principal, ['users:read'], 60);
    expect(await other.lookup(issued.token)).toBeDefined();
    // Cached now: deleting the key behind its back does not reach it...
    await client().del(`${prefix}${issued.id}`);
    expect(await other.lookup(issued.token)).toBeDefined();
    // ...a revocation does (the message arrives asynchronously: wait a bounded time).
    await one.revoke({ id: issued.id });
    for (let i = 0; i < 50 && (await other.lookup(issued.token)) !== undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await other.lookup(issued.token)).toBeUndefined();
  });
});

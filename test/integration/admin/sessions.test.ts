/**
 * Console sessions (src/auth/sessions.ts) against a real redis-server: idle and absolute expiry
 * on a controlled clock, sign-out, the record kept under the id's hash only, any store instance
 * (another bridge instance) sees the same session.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionStore } from '../../../src/auth/sessions.ts';
import { type RunningRedis, startRedis } from '../../../src/localdev/redis.ts';

let server: RunningRedis;
let redis: Redis;
let clock = Date.parse('2026-01-01T00:00:00Z');
const options = { prefix: 'test:', idleSeconds: 600, maxSeconds: 3600, now: () => clock };
const identity = { subject: 'ops', via: 'token' as const, scopes: ['admin'] };

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

describe('SessionStore', () => {
  it('another store on the same Redis (another instance) sees the session; Redis holds only the hash', async () => {
    const { id, session } = await new SessionStore(redis, options).open(identity);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const seen = await new SessionStore(redis, options).get(id);
    expect(seen).toMatchObject({
      subject: 'ops',
      via: 'token',
      scopes: ['admin'],
      csrfToken: session.csrfToken,
    });
    const keys = await redis.keys('test:session:*');
    expect(keys).toContain(`test:session:${createHash('sha256').update(id).digest('hex')}`);
    expect(JSON.stringify(await redis.mget(keys))).not.toContain(id);
  });

  it('ends a session unused for the idle time, and keeps one in use', async () => {
    const store = new SessionStore(redis, options);
    const idle = await store.open(identity);
    const used = await store.open(identity);
    for (let minute = 0; minute < 11; minute++) {
      clock += 60_000;
      expect(await store.get(used.id)).toBeDefined();
    }
    expect(await store.get(idle.id)).toBeUndefined();
    expect(await redis.exists(`test:session:${createHash('sha256').update(idle.id).digest('hex')}`)).toBe(0);
  });

  it('ends a session at its absolute expiry however much it is used, and an SSO bound shortens it', async () => {
    const store = new SessionStore(redis, options);
    const busy = await store.open(identity);
    const short = await store.open({ ...identity, via: 'saml', issuer: 'https://idp.test' }, 900);
    const start = clock;
    while (clock - start < 3_600_000) {
      clock += 5 * 60_000;
      const alive = await store.get(busy.id);
      expect(alive !== undefined).toBe(clock - start < 3_600_000);
      if (clock - start >= 900_000) expect(await store.get(short.id)).toBeUndefined();
    }
  });

  it('sign-out ends the session at once', async () => {
    const store = new SessionStore(redis, options);
    const { id } = await store.open(identity);
    await store.end(id);
    expect(await store.get(id)).toBeUndefined();
  });

  it.each(['', 'short', 'x'.repeat(43), `${'A'.repeat(42)}=`, 'A'.repeat(44)])(
    'knows no session for the cookie %j',
    async (value) => {
      expect(await new SessionStore(redis, options).get(value)).toBeUndefined();
    },
  );

  it('ignores a record that is not a session', async () => {
    const id = 'B'.repeat(43);
    await redis.set(`test:session:${createHash('sha256').update(id).digest('hex')}`, '{"subject":1}');
    expect(await new SessionStore(redis, options).get(id)).toBeUndefined();
  });
});

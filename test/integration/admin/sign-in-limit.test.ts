/**
 * Token sign-in attempts per client IP address against a real bridge (its own slapd and Redis):
 * after admin.signInAttempts tries in the window, the next one — even with the right token — is a
 * 429 sign-in page with Retry-After, audited, and no session is opened; the count is in Redis.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { ConsoleClient } from './helpers.ts';

const ATTEMPTS = 3;
let t: TestBridge;
let redis: Redis;

beforeAll(async () => {
  t = await startTestBridge({
    seed: 'empty',
    env: {
      SCIM_BRIDGE_ADMIN_SIGN_IN_ATTEMPTS: String(ATTEMPTS),
      SCIM_BRIDGE_ADMIN_SIGN_IN_WINDOW_SECONDS: '600',
    },
  });
  redis = new Redis(t.bridge.local?.redis?.url ?? '');
});

afterAll(async () => {
  redis?.disconnect();
  await t?.stop();
});

describe('token sign-in attempts per client IP', () => {
  it('refuses the attempt after the limit with a 429 page and Retry-After, audited, no session', async () => {
    const client = new ConsoleClient(t.bridge.url);
    const statuses: number[] = [];
    for (let i = 0; i < ATTEMPTS; i++) statuses.push((await client.signIn(`wrong-token-${i}`)).status);
    expect(statuses).toEqual([401, 401, 401]);

    const started = performance.now();
    const refused = await client.signIn(t.token);
    console.log(`refused sign-in answered in ${(performance.now() - started).toFixed(1)} ms`);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 600).toBe(true);
    expect(refused.text).toContain('Too many sign-in attempts from your address');
    expect(refused.text).toContain('id="token"');
    expect(refused.headers.get('content-security-policy')).toBeTruthy();
    expect(client.sessionId).toBe('');
    expect(refused.text).not.toContain(t.token);

    const audit = (await redis.xrange('scim-bridge:admin-audit', '-', '+')).map(([, f]) =>
      JSON.parse(f[1] ?? '{}'),
    );
    const newest = audit.at(-1) as {
      action: string;
      outcome: string;
      status: number;
      from: string;
      detail: { reason: string };
    };
    expect(newest).toMatchObject({ action: 'POST /admin/sign-in', outcome: 'refused', status: 429 });
    expect(newest.detail.reason).toContain('Too many sign-in attempts');
    expect(newest.from).toBe('127.0.0.1');
    expect(await redis.keys('scim-bridge:ratelimit:admin-sign-in*')).toHaveLength(1);
  });

  it('a new window lets the address sign in again', async () => {
    await redis.del(...(await redis.keys('scim-bridge:ratelimit:admin-sign-in*')));
    const client = new ConsoleClient(t.bridge.url);
    expect((await client.signIn(t.token)).status).toBe(303);
    expect(client.sessionId).not.toBe('');
  });
});

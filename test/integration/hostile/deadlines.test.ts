/**
 * Hostile input, class "deadlines" (issue 15, Medium; issue 8): every request has one deadline
 * (server.requestTimeoutMs) and every Redis and LDAP call inside it is bounded by what is left of
 * it. A hung dependency gives a prompt 503 with Retry-After (RFC 7644 §3.12; RFC 9110 §15.6.4),
 * never a request that waits as long as the outage lasts.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, type ScimResponse, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { expectScimError, idOf, said, USER, uidExists, whileStopped } from './helpers.ts';

const REQUEST_TIMEOUT_MS = 2_000;
/** The deadline plus the time to answer: the longest a request may take when a dependency hangs. */
const ANSWER_BY_MS = REQUEST_TIMEOUT_MS + 1_500;
/** How long a dependency stays stopped: well past the deadline, and bounded. */
const OUTAGE_MS = 8_000;

let t: TestBridge;
let ldap: Client;

beforeAll(async () => {
  t = await startTestBridge({
    env: {
      SCIM_BRIDGE_SERVER_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      // Config validation: the idempotency lock must outlive a request.
      SCIM_BRIDGE_IDEMPOTENCY_LOCK_TTL_SECONDS: String(Math.ceil(REQUEST_TIMEOUT_MS / 1000)),
    },
  });
  ldap = await rootClientOf(t);
});
afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
});

/**
 * Sends `request` while `pid` is stopped; the process continues after OUTAGE_MS at the latest (or
 * as soon as the answer came), so a bridge without a deadline answers only after the outage.
 */
async function duringOutage(
  pid: number,
  request: () => Promise<ScimResponse>,
): Promise<{ r: ScimResponse; ms: number }> {
  return whileStopped(pid, async () => {
    const started = performance.now();
    const pending = request();
    let timer: NodeJS.Timeout | undefined;
    const outage = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, OUTAGE_MS);
    });
    await Promise.race([pending.then(() => undefined), outage]);
    clearTimeout(timer);
    // A bridge without a deadline answers only once the process runs again.
    process.kill(pid, 'SIGCONT');
    return { r: await pending, ms: performance.now() - started };
  });
}

function expectPrompt503(r: ScimResponse, ms: number): void {
  expect(ms, said(r, ms)).toBeLessThan(ANSWER_BY_MS);
  expectScimError(r, 503);
  expect(r.headers.get('retry-after'), said(r, ms)).toMatch(/^\d+$/);
}

describe('hostile input: one deadline per request', () => {
  it('with dependencies answering, requests are served (the deadline does not cut ordinary work)', async () => {
    const r = await t.request('GET', '/Users?count=2');
    expect(r.status).toBe(200);
  });

  it('a keyed POST answers 503 with Retry-After within the deadline while Redis hangs, and creates nothing', async () => {
    const redis = t.bridge.local?.redis;
    if (!redis) throw new Error('the test bridge should run its own redis');
    const { r, ms } = await duringOutage(redis.pid, () =>
      t.request(
        'POST',
        '/Users',
        { schemas: [USER], userName: 'deadline.redis' },
        { 'Idempotency-Key': 'k-redis-1' },
      ),
    );
    expectPrompt503(r, ms);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await uidExists(ldap, 'deadline.redis')).toBe(false);
  });

  it('a read answers 503 with Retry-After within the deadline while slapd hangs', async () => {
    const slapd = t.bridge.local?.slapd;
    if (!slapd) throw new Error('the test bridge should run its own slapd');
    const id = await idOf(t, 'alice');
    const { r, ms } = await duringOutage(slapd.pid, () => t.request('GET', `/Users/${id}`));
    expectPrompt503(r, ms);
  });

  it('a write answers 503 with Retry-After within the deadline while slapd hangs', async () => {
    const slapd = t.bridge.local?.slapd;
    if (!slapd) throw new Error('the test bridge should run its own slapd');
    const { r, ms } = await duringOutage(slapd.pid, () =>
      t.request('POST', '/Users', { schemas: [USER], userName: 'deadline.ldap' }),
    );
    expectPrompt503(r, ms);
  });

  it('after the outage the bridge serves again', async () => {
    const r = await t.request('GET', '/Users?count=1');
    expect(r.status).toBe(200);
  });
});

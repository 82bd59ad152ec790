/**
 * Rate limits and load shedding (issue 17): over a client's or a route's limit, 429 with
 * Retry-After and a SCIM error body, counted in Redis so that two instances share one limit;
 * past the in-flight bound, 503 with Retry-After at once, before any directory work, and /ready
 * says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScimResponse, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { whileStopped } from '../hostile/helpers.ts';

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

function expect429(r: ScimResponse): void {
  expect(r.status, r.text).toBe(429);
  expect(r.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(r.body.schemas).toEqual([ERROR]);
  expect(r.body.status).toBe('429');
  expect(r.body.detail).toMatch(/rate limit/);
}

describe('rate limits shared by two instances through Redis', () => {
  let first: TestBridge;
  let second: TestBridge;

  beforeAll(async () => {
    const limits = {
      SCIM_BRIDGE_LIMITS_RATE_LIMIT_WINDOW_SECONDS: '60',
      SCIM_BRIDGE_LIMITS_CLIENT_REQUESTS_PER_WINDOW: '8',
      SCIM_BRIDGE_LIMITS_ROUTE_REQUESTS_PER_WINDOW: '5',
    };
    first = await startTestBridge({ env: limits });
    const slapd = first.bridge.local?.slapd;
    const redis = first.bridge.local?.redis;
    if (!slapd || !redis) throw new Error('the test bridge should run its own slapd and redis');
    // A second instance on the same directory and Redis, for the same client (auth.token).
    second = await startTestBridge({
      env: {
        ...limits,
        SCIM_BRIDGE_LDAP_URL: slapd.url,
        SCIM_BRIDGE_LDAP_BIND_DN: slapd.serviceDn,
        SCIM_BRIDGE_LDAP_BIND_PASSWORD: slapd.servicePassword,
        SCIM_BRIDGE_REDIS_URL: redis.url,
      },
    });
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('a route over its limit gets 429 on either instance while another route still answers', async () => {
    const answers: number[] = [];
    for (let n = 0; n < 5; n++) {
      const via = n % 2 === 0 ? first : second;
      answers.push((await via.request('GET', '/Users?count=1')).status);
    }
    expect(answers).toEqual([200, 200, 200, 200, 200]);
    expect429(await first.request('GET', '/Users?count=1'));
    expect429(await second.request('GET', '/Users?count=1'));
    expect((await first.request('GET', '/Groups?count=1')).status).toBe(200);
  });

  it('the client over its limit gets 429 on every route', async () => {
    // 8 per client per window: the 8 requests above (refused ones count too) used them all.
    let last: ScimResponse | undefined;
    for (let n = 0; n < 3; n++) last = await second.request('GET', '/Groups?count=1');
    if (!last) throw new Error('no request was sent');
    expect429(last);
    expect429(await first.request('GET', '/ServiceProviderConfig'));
  });
});

describe('load shedding', () => {
  let t: TestBridge;

  beforeAll(async () => {
    t = await startTestBridge({
      env: { SCIM_BRIDGE_LIMITS_MAX_IN_FLIGHT_REQUESTS: '2', SCIM_BRIDGE_SERVER_REQUEST_TIMEOUT_MS: '3000' },
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('past the in-flight bound a new request gets 503 + Retry-After at once, and /ready reports it', async () => {
    const slapd = t.bridge.local?.slapd;
    if (!slapd) throw new Error('the test bridge should run its own slapd');
    await whileStopped(slapd.pid, async () => {
      // Two requests held by the stopped directory fill the bound.
      const held = [t.request('GET', '/Users?count=1'), t.request('GET', '/Groups?count=1')];
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = performance.now();
      const shed = await t.request('GET', '/Users?count=1');
      const shedMs = performance.now() - started;
      const ready = await fetch(`${t.bridge.url}/ready`);
      const readyBody = (await ready.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
      process.kill(slapd.pid, 'SIGCONT');
      await Promise.all(held);

      expect(shed.status, shed.text).toBe(503);
      expect(shed.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(shed.body.detail).toMatch(/overloaded.*in flight/);
      // Answered without waiting for the directory (which was stopped): well before the deadline.
      expect(shedMs).toBeLessThan(3000);
      expect(ready.status).toBe(503);
      expect(readyBody.checks.load?.ok).toBe(false);
      expect(readyBody.checks.load?.error).toMatch(/shedding load/);
    });
    expect((await t.request('GET', '/Users?count=1')).status).toBe(200);
    const ready = await fetch(`${t.bridge.url}/ready`);
    expect(ready.status).toBe(200);
  });
});

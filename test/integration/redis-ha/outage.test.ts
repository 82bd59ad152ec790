/**
 * Redis down (issue 18; docs/architecture.md §Redis outage): with the real redis-server stopped
 * (SIGSTOP: it hangs) or killed (it refuses), reads go on; writes that need Redis (the change
 * journal, an Idempotency-Key) answer 503 with a SCIM error and Retry-After before the request
 * deadline and change nothing in the directory; /ready stays 200 with status "degraded" and names
 * Redis, so HAProxy (checking /ready, src/localdev/topology.ts) keeps the instance in. After Redis
 * returns, writes succeed again by themselves. With events off, a write without a key needs no
 * Redis and completes. Times are printed, not asserted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHaproxy, startHaproxy } from '../../../src/localdev/haproxy.ts';
import { HEALTH_CHECK } from '../../../src/localdev/topology.ts';
import { rootClientOf, type ScimResponse, startTestBridge, type TestBridge } from '../../harness/bridge.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const REQUEST_TIMEOUT_MS = 8_000;

let t: TestBridge;
let haproxy: RunningHaproxy;
let aliceId: string;

beforeAll(async () => {
  t = await startTestBridge({
    env: {
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_SERVER_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      SCIM_BRIDGE_IDEMPOTENCY_LOCK_TTL_SECONDS: String(REQUEST_TIMEOUT_MS / 1000 + 1),
    },
  });
  const address = new URL(t.bridge.url).host;
  haproxy = await startHaproxy({ backends: [{ name: 'bridge-1', address }] });
  const alice = await t.request('GET', '/Users?filter=userName%20eq%20%22alice%22');
  expect(alice.status).toBe(200);
  aliceId = alice.body.Resources[0].id;
}, 60_000);

afterAll(async () => {
  await haproxy?.stop();
  await t?.stop();
});

/** Resolves once /proc shows the process and all its threads stopped (state T), at most 2 s. */
async function untilStopped(pid: number): Promise<void> {
  const threadsStopped = () =>
    readdirSync(`/proc/${pid}/task`).every((task) =>
      /^T$/.test(readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8').split(') ')[1]?.[0] ?? ''),
    );
  for (let i = 0; i < 40 && !threadsStopped(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
}

async function ready(): Promise<{ status: number; body: any }> {
  const r = await fetch(`${t.bridge.url}/ready`);
  return { status: r.status, body: await r.json() };
}

async function timed(send: () => Promise<ScimResponse>): Promise<ScimResponse & { ms: number }> {
  const started = performance.now();
  const r = await send();
  return { ...r, ms: Math.round(performance.now() - started) };
}

/** The userNames in the directory that start with `prefix`, read with slapd's root bind. */
async function inDirectory(prefix: string): Promise<string[]> {
  const client = await rootClientOf(t);
  try {
    const { searchEntries } = await client.search(t.bridge.local?.slapd?.suffix ?? '', {
      scope: 'sub',
      filter: `(uid=${prefix}*)`,
      attributes: ['uid'],
    });
    return searchEntries.map((e) => String(e.uid));
  } finally {
    await client.unbind();
  }
}

async function aliceTitle(): Promise<string | undefined> {
  const r = await t.request('GET', `/Users/${aliceId}?attributes=title`);
  return r.body.title;
}

type Outage = 'SIGSTOP' | 'killed';

async function startOutage(outage: Outage): Promise<void> {
  const redis = t.bridge.local?.redis;
  if (!redis) throw new Error('the test bridge should run its own redis');
  if (outage === 'SIGSTOP') process.kill(redis.pid, 'SIGSTOP');
  else await redis.kill();
}

async function endOutage(outage: Outage): Promise<void> {
  const redis = t.bridge.local?.redis;
  if (!redis) throw new Error('the test bridge should run its own redis');
  if (outage === 'SIGSTOP') process.kill(redis.pid, 'SIGCONT');
  else await redis.restart();
}

/** Milliseconds until a keyed create succeeds again, trying every 100 ms for at most 20 s. */
async function timeToWriteAgain(tag: string): Promise<number> {
  const started = performance.now();
  for (let n = 0; n < 200; n++) {
    const userName = `back.${tag}.${n}`;
    const r = await t.request(
      'POST',
      '/Users',
      { schemas: [USER], userName },
      { 'Idempotency-Key': userName },
    );
    if (r.status === 201) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Number.POSITIVE_INFINITY;
}

describe.each(['SIGSTOP', 'killed'] as const)('Redis %s', (outage) => {
  it('reads go on, writes get 503 quickly and change nothing, /ready is degraded, HAProxy keeps the instance; writes resume after', async () => {
    const prefix = `outage-${outage.toLowerCase()}-`;
    const titleBefore = await aliceTitle();
    await startOutage(outage);
    let answers: Record<string, ScimResponse & { ms: number }>;
    let readiness: { status: number; body: any };
    let lbState: string | undefined;
    try {
      answers = {
        list: await timed(() => t.request('GET', '/Users?count=2')),
        get: await timed(() => t.request('GET', `/Users/${aliceId}`)),
        filter: await timed(() => t.request('GET', '/Users?filter=userName%20eq%20%22alice%22')),
        discovery: await timed(() => t.request('GET', '/ServiceProviderConfig')),
        create: await timed(() =>
          t.request('POST', '/Users', { schemas: [USER], userName: `${prefix}plain` }),
        ),
        keyedCreate: await timed(() =>
          t.request(
            'POST',
            '/Users',
            { schemas: [USER], userName: `${prefix}keyed` },
            { 'Idempotency-Key': `${prefix}keyed` },
          ),
        ),
        patch: await timed(() =>
          t.request('PATCH', `/Users/${aliceId}`, {
            schemas: [PATCH],
            Operations: [{ op: 'replace', path: 'title', value: `${prefix}title` }],
          }),
        ),
      };
      readiness = await ready();
      // Long enough for HAProxy's checks to take the instance out if /ready failed them.
      await new Promise((resolve) => setTimeout(resolve, HEALTH_CHECK.intervalMs * (HEALTH_CHECK.fall + 1)));
      lbState = (await haproxy.serverStates())['bridge-1'];
    } finally {
      await endOutage(outage);
    }
    const recoveredMs = await timeToWriteAgain(outage.toLowerCase());
    console.log(
      `Redis ${outage}: ${Object.entries(answers)
        .map(([name, r]) => `${name} ${r.status} in ${r.ms} ms`)
        .join(
          ', ',
        )}; /ready ${readiness.status} ${readiness.body.status}; HAProxy: ${lbState}; writes again ${Math.round(recoveredMs)} ms after Redis returned`,
    );

    for (const name of ['list', 'get', 'filter', 'discovery'])
      expect(answers[name]?.status, `${name}: ${answers[name]?.text}`).toBe(200);
    for (const name of ['create', 'keyedCreate', 'patch']) {
      const r = answers[name];
      expect(r?.status, `${name}: ${r?.text}`).toBe(503);
      expect(r?.body.schemas).toEqual([ERROR]);
      expect(r?.headers.get('retry-after')).toMatch(/^\d+$/);
      // Quickly, not at the request deadline.
      expect(r?.ms).toBeLessThan(REQUEST_TIMEOUT_MS);
    }
    expect(await inDirectory(prefix)).toEqual([]);
    expect(await aliceTitle()).toBe(titleBefore);

    expect(readiness.status).toBe(200);
    expect(readiness.body.status).toBe('degraded');
    expect(readiness.body.checks.redis.ok).toBe(false);
    expect(readiness.body.reason).toMatch(/redis/);
    expect(lbState).toBe('UP');

    expect(recoveredMs).toBeLessThan(Number.POSITIVE_INFINITY);
    let after = await ready();
    for (let i = 0; i < 50 && after.body.status !== 'ready'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await ready();
    }
    expect(after.body.checks.redis.ok).toBe(true);
    expect(after.status).toBe(200);
  });
});

describe('the directory down', () => {
  it('/ready says "cannot serve" with 503', async () => {
    const slapd = t.bridge.local?.slapd;
    if (!slapd) throw new Error('the test bridge should run its own slapd');
    process.kill(slapd.pid, 'SIGSTOP');
    let r: { status: number; body: any };
    try {
      // Ask only once the kernel shows every slapd thread stopped (a loaded CI machine may let it
      // answer one more request after the signal is sent).
      await untilStopped(slapd.pid);
      r = await ready();
    } finally {
      process.kill(slapd.pid, 'SIGCONT');
    }
    expect(r.status).toBe(503);
    expect(r.body.status).toBe('cannot serve');
    expect(r.body.reason).toMatch(/directory/);
  });
});

describe('Redis SIGSTOP, events off', () => {
  it('a write without Idempotency-Key needs no Redis: it completes, once (its write notice is dropped)', async () => {
    const own = await startTestBridge();
    try {
      const redis = own.bridge.local?.redis;
      if (!redis) throw new Error('the test bridge should run its own redis');
      process.kill(redis.pid, 'SIGSTOP');
      let created: ScimResponse & { ms: number };
      try {
        created = await timed(() =>
          own.request('POST', '/Users', { schemas: [USER], userName: 'no-redis-needed' }),
        );
      } finally {
        process.kill(redis.pid, 'SIGCONT');
      }
      console.log(`Redis SIGSTOP, events off: a create without key ${created.status} in ${created.ms} ms`);
      expect(created.status, created.text).toBe(201);
      const found = await own.request('GET', '/Users?filter=userName%20eq%20%22no-redis-needed%22');
      expect(found.body.totalResults).toBe(1);
      expect(found.body.Resources[0].id).toBe(created.body.id);
    } finally {
      await own.stop();
    }
  });
});

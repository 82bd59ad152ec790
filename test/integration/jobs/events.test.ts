/**
 * Events end to end: a whole bridge (real slapd, real redis-server) with events on, delivering to
 * a real HTTP receiver started here. Every committed change yields its signed event; refused
 * writes yield none; a receiver that is down gets everything in order once back; a 400 is
 * dead-lettered, listed by the CLI, and delivered by `jobs retry`.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIntents } from '../../../src/jobs/journal.ts';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { type Receiver, startReceiver } from './receiver.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SECRET = 'test-webhook-secret-0123456789';
const repoRoot = path.resolve(import.meta.dirname, '../../..');

let t: TestBridge;
let receiver: Receiver;
let servicesJson: string;

function eventsFor(resourceId: string) {
  return receiver.accepted().filter((d) => d.event?.resourceId === resourceId);
}

async function waitForEvents(resourceId: string, count: number, timeoutMs = 10_000) {
  await receiver.waitFor(
    () => eventsFor(resourceId).length >= count,
    timeoutMs,
    `${count} event(s) of ${resourceId}`,
  );
  return eventsFor(resourceId);
}

beforeAll(async () => {
  receiver = await startReceiver(SECRET);
  servicesJson = JSON.stringify([
    { name: 'hook', url: receiver.url, secret: SECRET, concurrency: 4, ratePerSecond: 1000 },
  ]);
  t = await startTestBridge({
    seed: 'empty',
    env: {
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_EVENTS_SERVICES: servicesJson,
      SCIM_BRIDGE_EVENTS_BACKOFF_BASE_MS: '50',
      SCIM_BRIDGE_EVENTS_BACKOFF_MAX_MS: '1500',
      SCIM_BRIDGE_EVENTS_MAX_ATTEMPTS: '60',
    },
  });
});
afterAll(async () => {
  await t?.stop();
  await receiver?.close();
});

describe('events for committed changes', () => {
  it('create, PATCH, deactivate and delete of a user each reach the receiver, signed, in order', async () => {
    const created = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'ev-alice',
      password: 'never-in-an-event-42',
      name: { familyName: 'Alice' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const patched = await t.request('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Alice A.' }],
    });
    expect(patched.status).toBe(200);
    const deactivated = await t.request('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(deactivated.status).toBe(200);
    expect((await t.request('DELETE', `/Users/${id}`)).status).toBe(204);

    const events = await waitForEvents(id, 4);
    expect(events.map((d) => d.event.type)).toEqual([
      'user.created',
      'user.updated',
      'user.deactivated',
      'user.deleted',
    ]);
    for (const d of events) {
      expect(d.signatureValid).toBe(true);
      expect(d.eventId).toBe(d.event.eventId);
      expect(d.event).toMatchObject({ resourceType: 'User', resourceId: id });
      expect(d.event.actor).toBeTruthy();
      expect(Date.parse(d.event.timestamp)).toBeGreaterThan(Date.now() - 60_000);
      expect(d.body).not.toContain('never-in-an-event-42');
    }
    expect(events[0]?.event.changedAttributes).toEqual(expect.arrayContaining(['userName', 'password']));
    expect(events[1]?.event.changedAttributes).toContain('displayName');
    expect(new Set(events.map((d) => d.eventId)).size).toBe(4);
  });

  it('member add and remove become group events with the member ids', async () => {
    const user = await t.request('POST', '/Users', { schemas: [USER], userName: 'ev-bob' });
    const group = await t.request('POST', '/Groups', { schemas: [GROUP], displayName: 'ev-team' });
    expect(group.status).toBe(201);
    const gid = group.body.id as string;
    for (const op of ['add', 'remove'] as const) {
      const r = await t.request('PATCH', `/Groups/${gid}`, {
        schemas: [PATCH],
        Operations:
          op === 'add'
            ? [{ op: 'add', path: 'members', value: [{ value: user.body.id }] }]
            : [{ op: 'remove', path: `members[value eq "${user.body.id}"]` }],
      });
      expect([200, 204]).toContain(r.status);
    }
    const events = await waitForEvents(gid, 3);
    expect(events.map((d) => d.event.type)).toEqual([
      'group.created',
      'group.member_added',
      'group.member_removed',
    ]);
    expect(events[1]?.event.memberIds).toEqual([user.body.id]);
    expect(events[2]?.event.memberIds).toEqual([user.body.id]);
    expect(events.every((d) => d.signatureValid)).toBe(true);
  });

  it('refused writes publish nothing and leave no open intent', async () => {
    const created = await t.request('POST', '/Users', { schemas: [USER], userName: 'ev-carol' });
    const id = created.body.id as string;
    await waitForEvents(id, 1);
    // Uniqueness refusal (before the directory), and a stale If-Match refused by the directory's assertion.
    expect((await t.request('POST', '/Users', { schemas: [USER], userName: 'ev-carol' })).status).toBe(409);
    const stale = await t.request(
      'PATCH',
      `/Users/${id}`,
      { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] },
      { 'If-Match': 'W/"not-the-version"' },
    );
    expect(stale.status).toBe(412);
    // A later accepted change of the same resource arrives, and nothing in between.
    const ok = await t.request('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Carol' }],
    });
    expect(ok.status).toBe(200);
    const events = await waitForEvents(id, 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(eventsFor(id).map((d) => d.event.type)).toEqual(['user.created', 'user.updated']);
    expect(events.length).toBe(2);
    const redisUrl = t.bridge.local!.redis!.url;
    const { Redis } = await import('ioredis');
    const redis = new Redis(redisUrl);
    try {
      // Intents are closed right after the jobs are added, in the background of the answer.
      let open = await openIntents(redis, 'scim-bridge:');
      for (let i = 0; i < 40 && open.count > 0; i++) {
        await new Promise((res) => setTimeout(res, 25));
        open = await openIntents(redis, 'scim-bridge:');
      }
      expect(open.count).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});

describe('delivery', () => {
  it('a receiver down for a while gets everything once back, in order per resource', async () => {
    receiver.mode = 'drop';
    const ids: string[] = [];
    for (const name of ['ev-d1', 'ev-d2', 'ev-d3']) {
      const r = await t.request('POST', '/Users', { schemas: [USER], userName: name });
      expect(r.status).toBe(201);
      ids.push(r.body.id);
    }
    for (let round = 1; round <= 4; round++) {
      for (const id of ids) {
        const r = await t.request('PATCH', `/Users/${id}`, {
          schemas: [PATCH],
          Operations: [{ op: 'replace', path: 'displayName', value: `round ${round}` }],
        });
        expect(r.status).toBe(200);
      }
    }
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.requests.filter((d) => ids.includes(d.event?.resourceId)).length).toBeGreaterThan(0);
    expect(ids.flatMap(eventsFor)).toEqual([]);
    receiver.mode = 200;
    for (const id of ids) {
      const events = await waitForEvents(id, 5, 20_000);
      expect(events.map((d) => d.event.type)).toEqual(['user.created', ...Array(4).fill('user.updated')]);
      const timestamps = events.map((d) => Date.parse(d.event.timestamp));
      expect([...timestamps].sort((a, b) => a - b)).toEqual(timestamps);
    }
    // Retries were made, and none of them overtook an earlier event of its resource.
    for (const id of ids) {
      const answered = receiver.requests.filter((d) => d.event?.resourceId === id && d.status === 200);
      expect(answered.map((d) => d.event.timestamp)).toEqual(eventsFor(id).map((d) => d.event.timestamp));
    }
  });

  it('429 with Retry-After is retried after the delay; a 400 is dead-lettered, listed by the CLI and re-delivered by jobs retry', async () => {
    receiver.mode = 429;
    receiver.headers = { 'Retry-After': '1' };
    const limited = await t.request('POST', '/Users', { schemas: [USER], userName: 'ev-429' });
    await receiver.waitFor(
      () => receiver.requests.some((d) => d.event?.resourceId === limited.body.id),
      5000,
      'a 429',
    );
    const firstTry = Date.now();
    receiver.mode = 200;
    await waitForEvents(limited.body.id, 1, 5000);
    expect(Date.now() - firstTry).toBeGreaterThanOrEqual(700);

    receiver.mode = 400;
    const r = await t.request('POST', '/Users', { schemas: [USER], userName: 'ev-rejected' });
    const id = r.body.id as string;
    await receiver.waitFor(() => receiver.requests.some((d) => d.event?.resourceId === id), 5000, 'the 400');
    const admin = t.bridge.events!.admin;
    let failed = await admin.list({ failed: true });
    for (let i = 0; i < 40 && failed.length === 0; i++) {
      await new Promise((res) => setTimeout(res, 50));
      failed = await admin.list({ failed: true });
    }
    expect(failed.map((f) => f.resourceId)).toEqual([id]);
    // One attempt only: a 400 is not retried.
    expect(receiver.requests.filter((d) => d.event?.resourceId === id).length).toBe(1);
    const warnings = (await t.bridge.events!.warnings()).join('\n');
    expect(warnings).toMatch(/hook: .*1 dead-lettered/);
    expect(warnings).toMatch(/delivery latency p50 \d+ ms, p95 \d+ ms/);
    const [stats] = await admin.stats();
    expect(stats?.delivered).toBeGreaterThan(10);
    expect(stats?.failedAttempts).toBeGreaterThan(0);
    const ready = await fetch(`${t.bridge.url}/ready`).then((res) => res.json());
    expect(JSON.stringify(ready)).toContain('1 dead-lettered');

    receiver.mode = 200;
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SCIM_BRIDGE_'))),
      SCIM_BRIDGE_REDIS_URL: t.bridge.local!.redis!.url,
      SCIM_BRIDGE_EVENTS_SERVICES: servicesJson,
      SCIM_BRIDGE_LOG_LEVEL: 'silent',
    };
    const cli = (...args: string[]) =>
      promisify(execFile)(path.join(repoRoot, 'node_modules/.bin/node'), ['src/cli/main.ts', ...args], {
        cwd: repoRoot,
        env,
        timeout: 20_000,
      });
    const listed = await cli('jobs', 'list', '--failed', '--json');
    const rows = JSON.parse(listed.stdout) as { jobId: string; resourceId: string; state: string }[];
    expect(rows.map((row) => [row.resourceId, row.state])).toEqual([[id, 'failed']]);
    const jobId = rows[0]!.jobId;
    const retried = await cli('jobs', 'retry', jobId);
    expect(retried.stdout).toContain('1 job(s) queued again');
    const delivered = await waitForEvents(id, 1, 10_000);
    expect(delivered[0]?.event.type).toBe('user.created');
    expect(await admin.list({ failed: true })).toEqual([]);
    expect(await t.bridge.events!.warnings()).toEqual([]);

    // replay: the delivered event goes out once more, with the same event id.
    const before = receiver.requests.filter((d) => d.eventId === jobId).length;
    const replayed = await cli('jobs', 'replay', jobId);
    expect(replayed.stdout).toContain('1 delivery');
    await receiver.waitFor(
      () => receiver.requests.filter((d) => d.eventId === jobId).length > before,
      10_000,
      'the replayed event',
    );
    await expect(cli('jobs', 'retry', 'no-such-job')).rejects.toMatchObject({ code: 1 });
  });
});

describe('Redis down', () => {
  it('a write is refused with 503 and not made when the journal cannot record it', async () => {
    const local = t.bridge.local!.redis!;
    await local.kill();
    try {
      const r = await t.request('POST', '/Users', { schemas: [USER], userName: 'ev-no-journal' });
      expect(r.status).toBe(503);
      // /ready still answers promptly, saying why: degraded, reads go on (docs/architecture.md §Redis outage).
      const started = Date.now();
      const ready = await fetch(`${t.bridge.url}/ready`);
      expect(Date.now() - started).toBeLessThan(4000);
      expect(ready.status).toBe(200);
      expect(await ready.text()).toContain('events: queue figures unavailable');
    } finally {
      await local.restart();
    }
    let found: { status: number; body: { totalResults?: number } } | undefined;
    for (let i = 0; i < 100; i++) {
      found = await t.request('GET', '/Users?filter=userName%20eq%20%22ev-no-journal%22');
      if (found.status === 200) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(found?.body.totalResults).toBe(0);
  });
});

/**
 * Directory failover under read load (issue 18): a provider and its syncrepl replica listed in
 * ldap.urls, 16 clients reading users by id and by filter. The provider (the first URL, preferred
 * for reads) is stopped mid-load: frozen with SIGSTOP (its sockets stay open, nothing answers),
 * then killed with SIGKILL (its connections break). Every read is answered 200 from the replica
 * meanwhile; after SIGCONT / restart the provider is taken back. Also: cursor and startIndex walks
 * begun on the provider finish on the replica; the idle replica killed is seen down (heartbeat)
 * and back; with both down a read gets 503 at its deadline. Failover and fail-back times are
 * printed, not asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeasuredDirectory } from '../../../src/ldap/index.ts';
import {
  type LoadResult,
  msUntilServer,
  type Pair,
  pause,
  readLoad,
  readyServers,
  serverUpMetric,
  signal,
  startPair,
} from './pair.ts';

const CLIENTS = 16;
let pair: Pair;
let ids: string[];

beforeAll(async () => {
  pair = await startPair();
  const listed = await pair.bridge.request('GET', '/Users?count=50');
  ids = (listed.body.Resources as Array<{ id: string }>).map((user) => user.id);
}, 60_000);

afterAll(async () => {
  await pair?.stop();
}, 30_000);

function directoryOf(p: Pair): MeasuredDirectory {
  return p.bridge.bridge.directory as MeasuredDirectory;
}

/** Milliseconds until the bridge itself has server `position` in `state` (10 ms polls, bounded). */
async function msUntil(position: number, state: 'up' | 'down', since: number): Promise<number> {
  for (;;) {
    if (directoryOf(pair).servers()[position - 1]?.state === state) return performance.now() - since;
    if (performance.now() - since > 20_000) throw new Error(`server ${position} not ${state} after 20 s`);
    await pause(10);
  }
}

function print(what: string, result: LoadResult, figures: Record<string, number>): void {
  const shown = Object.entries(figures)
    .map(([name, ms]) => `${name} ${Math.round(ms)} ms`)
    .join(', ');
  console.log(
    `[failover] ${what}: ${result.total} reads by ${CLIENTS} clients, by status ${JSON.stringify(result.byStatus)}, ` +
      `slowest ${Math.round(result.maxLatencyMs)} ms; ${shown}`,
  );
  for (const failure of result.failures.slice(0, 5))
    console.log('[failover]   not 200:', JSON.stringify(failure));
}

describe('reads while the preferred directory server fails', () => {
  it('every read is answered 200 while the provider is frozen (SIGSTOP), and it is taken back after SIGCONT', async () => {
    expect(ids.length).toBeGreaterThan(0);
    expect(
      directoryOf(pair)
        .servers()
        .map((server) => server.state),
    ).toEqual(['up', 'up']);
    const load = readLoad(pair.bridge, ids, CLIENTS);
    await pause(1_000);
    const frozenAt = performance.now();
    signal(pair.provider, 'SIGSTOP');
    const markedDownMs = await msUntil(1, 'down', frozenAt);
    await pause(2_000);
    const resumedAt = performance.now();
    signal(pair.provider, 'SIGCONT');
    const failBackMs = await msUntil(1, 'up', resumedAt);
    await pause(1_000);
    const result = await load.stop();
    print('SIGSTOP of the provider', result, {
      'marked down after': markedDownMs,
      'fail-back after SIGCONT': failBackMs,
    });
    expect(result.total).toBeGreaterThan(CLIENTS);
    expect(result.byStatus).toEqual({ '200': result.total });
    // The public view: the first URL serves again.
    expect((await readyServers(pair.bridge)).map((s) => [s.server, s.role, s.state])).toEqual([
      [1, 'readWrite', 'up'],
      [2, 'readOnly', 'up'],
    ]);
  }, 60_000);

  it('every read is answered 200 while the provider is killed (SIGKILL), and it is taken back after a restart', async () => {
    const load = readLoad(pair.bridge, ids, CLIENTS);
    await pause(1_000);
    const killedAt = performance.now();
    signal(pair.provider, 'SIGKILL');
    const markedDownMs = await msUntil(1, 'down', killedAt);
    await msUntilServer(pair.bridge, 1, 'down', killedAt);
    // /ready while the provider is away: serving (200), degraded, the provider shown down.
    const during = await fetch(`${pair.bridge.bridge.url}/ready`);
    const duringBody = (await during.json()) as { status: string; warnings?: string[] };
    const metricDuring = await serverUpMetric(pair.bridge);
    await pause(2_000);
    const restartAt = performance.now();
    await pair.provider.restart();
    const restartedMs = performance.now() - restartAt;
    const failBackMs = await msUntil(1, 'up', restartAt);
    await pause(1_000);
    const result = await load.stop();
    print('SIGKILL of the provider', result, {
      'marked down after': markedDownMs,
      'slapd restart took': restartedMs,
      'fail-back after the restart began': failBackMs,
    });
    expect(during.status).toBe(200);
    expect(duringBody.status).toBe('degraded');
    expect(duringBody.warnings?.some((w) => w.includes('directory server 1 of 2 (readWrite) down'))).toBe(
      true,
    );
    expect(result.total).toBeGreaterThan(CLIENTS);
    expect(result.byStatus).toEqual({ '200': result.total });
    expect((await readyServers(pair.bridge)).map((s) => s.state)).toEqual(['up', 'up']);
    expect(metricDuring).toEqual({ '1': 0, '2': 1 });
    expect(await serverUpMetric(pair.bridge)).toEqual({ '1': 1, '2': 1 });
  }, 60_000);

  it('cursor and startIndex walks begun on the provider finish on the replica after it is killed', async () => {
    const page = (query: string) => pair.bridge.request('GET', `/Users?sortBy=userName&count=2&${query}`);
    const cursorFirst = await page('cursor=');
    const indexFirst = await page('startIndex=1');
    expect([cursorFirst.status, indexFirst.status]).toEqual([200, 200]);
    signal(pair.provider, 'SIGKILL');
    // The provider's paged cookie and VLV sorted list are gone with it: the pages are served again
    // from the replica, by position, in the same order.
    const names = (r: { body: { Resources: Array<{ userName: string }> } }) =>
      r.body.Resources.map((u) => u.userName);
    const cursorSeen = names(cursorFirst);
    let cursor: string | undefined = cursorFirst.body.nextCursor;
    for (let turn = 0; cursor && turn < 5; turn++) {
      const next = await page(`cursor=${encodeURIComponent(cursor)}`);
      expect(next.status).toBe(200);
      cursorSeen.push(...names(next));
      cursor = next.body.nextCursor;
    }
    const indexSeen = names(indexFirst);
    for (const startIndex of [3, 5]) {
      const next = await page(`startIndex=${startIndex}`);
      expect(next.status).toBe(200);
      indexSeen.push(...names(next));
    }
    const all = ['alice', 'bob', 'carol', 'dave', 'erin'];
    expect(cursorSeen).toEqual(all);
    expect(indexSeen).toEqual(all);
    const restartAt = performance.now();
    await pair.provider.restart();
    await msUntil(1, 'up', restartAt);
  }, 60_000);

  it('the replica killed mid-load: reads go on from the provider, and the idle replica is seen down and back', async () => {
    const load = readLoad(pair.bridge, ids, CLIENTS);
    await pause(500);
    const killedAt = performance.now();
    signal(pair.replica, 'SIGKILL');
    // Nothing reads from the replica while the provider is up: the heartbeat finds it down.
    const markedDownMs = await msUntil(2, 'down', killedAt);
    const during = (await readyServers(pair.bridge)).map((s) => s.state);
    const restartAt = performance.now();
    await pair.replica.restart();
    const backMs = await msUntil(2, 'up', restartAt);
    await pause(500);
    const result = await load.stop();
    print('SIGKILL of the replica', result, {
      'marked down (heartbeat) after': markedDownMs,
      'taken back after the restart began': backMs,
    });
    expect(during).toEqual(['up', 'down']);
    expect(result.total).toBeGreaterThan(CLIENTS);
    expect(result.byStatus).toEqual({ '200': result.total });
  }, 60_000);

  it('reads wait for a server while none answers, and get 503 only at the deadline', async () => {
    signal(pair.provider, 'SIGKILL');
    signal(pair.replica, 'SIGKILL');
    const began = performance.now();
    const response = await pair.bridge.request('GET', `/Users/${ids[0]}`);
    const tookMs = performance.now() - began;
    console.log(
      `[failover] both servers killed: a read answered ${response.status} after ${Math.round(tookMs)} ms`,
    );
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).not.toBeNull();
    expect(response.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    const ready = await fetch(`${pair.bridge.bridge.url}/ready`);
    expect(ready.status).toBe(503);
    // Both back: reads go on without a restart of the bridge.
    await Promise.all([pair.provider.restart(), pair.replica.restart()]);
    const backAt = performance.now();
    await msUntil(1, 'up', backAt);
    const after = await pair.bridge.request('GET', `/Users/${ids[0]}`);
    expect(after.status).toBe(200);
  }, 60_000);
});

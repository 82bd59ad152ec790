/**
 * Two bridge instances on one slapd and one Redis (issue 18): a write through instance A ends the
 * kept sorted lists and cached references of instance B within milliseconds (src/cluster/write-notices.ts),
 * so a client whose requests a load balancer spreads over both reads its own writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

let a: TestBridge;
let b: TestBridge;

beforeAll(async () => {
  a = await startTestBridge();
  const slapd = a.bridge.local?.slapd;
  const redis = a.bridge.local?.redis;
  if (!slapd || !redis) throw new Error('instance A should run its own slapd and redis');
  // B shares A's directory, Redis and token; its own kept lists and reference cache.
  b = await startTestBridge({
    env: {
      SCIM_BRIDGE_LDAP_URL: slapd.url,
      SCIM_BRIDGE_LDAP_BIND_DN: slapd.serviceDn,
      SCIM_BRIDGE_LDAP_BIND_PASSWORD: slapd.servicePassword,
      SCIM_BRIDGE_REDIS_URL: redis.url,
      SCIM_BRIDGE_TOKEN: a.token,
      // B keeps its sorted lists far longer than any test runs: only a notice can end them.
      SCIM_BRIDGE_LDAP_SORTED_LIST_REUSE_MS: '3600000',
    },
  });
  b.token = a.token;
}, 60_000);

afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

/** B's request with A's token (startTestBridge's client sends the token it generated). */
function onB(method: string, path: string, body?: unknown) {
  return fetch(`${b.baseUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${a.token}`,
      ...(body !== undefined ? { 'Content-Type': 'application/scim+json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
}

/**
 * B's answer once `done` holds, polled for at most 2 s. A notice reaches B a few milliseconds after
 * A answered (the invalidation window, `npm run bench -- --cluster`), so on a loaded machine B may
 * answer one request before it; without notices B would keep its list for an hour and its cached
 * references for 10 s, far past this bound.
 */
async function eventuallyOnB(path: string, done: (body: any) => boolean) {
  const deadline = Date.now() + 2000;
  for (;;) {
    const answer = await onB('GET', path);
    if (done(answer.body) || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('cross-instance invalidation', () => {
  it('a user created through A is on the next page B serves from its kept sorted list', async () => {
    for (let i = 0; i < 12; i++) {
      const r = await a.request('POST', '/Users', {
        schemas: [USER],
        userName: `kept-${String(i).padStart(2, '0')}`,
      });
      expect(r.status).toBe(201);
    }
    const page = '/Users?filter=userName sw "kept-"&sortBy=userName&startIndex=1&count=3';
    // First page: B's slapd sorts and keeps the list; the second page is read from it.
    const first = await onB('GET', encodeURI(page));
    expect(first.status).toBe(200);
    expect(first.body.totalResults).toBe(12);
    const again = await onB('GET', encodeURI(page.replace('startIndex=1', 'startIndex=4')));
    expect(again.body.Resources.map((r: any) => r.userName)).toEqual(['kept-03', 'kept-04', 'kept-05']);

    const created = await a.request('POST', '/Users', { schemas: [USER], userName: 'kept-!first' });
    expect(created.status).toBe(201);
    const after = await eventuallyOnB(encodeURI(page), (body) => body.totalResults === 13);
    expect(after.body.totalResults).toBe(13);
    expect(after.body.Resources.map((r: any) => r.userName)).toEqual(['kept-!first', 'kept-00', 'kept-01']);
  });

  it("a manager's new displayName written through A (the reference's display) shows on B within the invalidation window (its reference cache forgot it)", async () => {
    const find = async (userName: string) =>
      (await a.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).body
        .Resources[0] as { id: string };
    const alice = await find('alice');
    const bob = await find('bob');
    const setManager = await a.request('PATCH', `/Users/${alice.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: `${ENTERPRISE}:manager.value`, value: bob.id }],
    });
    expect(setManager.status).toBeLessThan(300);
    const before = await onB('GET', `/Users/${alice.id}`);
    expect(before.body[ENTERPRISE].manager.value).toBe(bob.id);
    const oldName = before.body[ENTERPRISE].manager.display as string;

    const newName = `${oldName} (renamed on A)`;
    const rename = await a.request('PATCH', `/Users/${bob.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: newName }],
    });
    expect(rename.status).toBeLessThan(300);
    const after = await eventuallyOnB(
      `/Users/${alice.id}`,
      (body) => body[ENTERPRISE]?.manager?.display === newName,
    );
    expect(after.body[ENTERPRISE].manager.display).toBe(newName);
  });

  it('a write made while Redis was down is shown by B once its subscription is back (reconnect ends what it kept)', async () => {
    const redis = a.bridge.local?.redis;
    if (!redis) throw new Error('instance A should run its own redis');
    const page = encodeURI('/Users?filter=userName sw "down-"&sortBy=userName&startIndex=1&count=2');
    for (const userName of ['down-1', 'down-2', 'down-3'])
      expect((await a.request('POST', '/Users', { schemas: [USER], userName })).status).toBe(201);
    expect((await onB('GET', page)).body.totalResults).toBe(3);

    await redis.kill();
    // Writes go on while Redis is down; their notices are lost.
    expect((await a.request('POST', '/Users', { schemas: [USER], userName: 'down-0' })).status).toBe(201);
    await redis.restart();
    let seen: string[] = [];
    for (let i = 0; i < 300 && seen[0] !== 'down-0'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen = (await onB('GET', page)).body.Resources?.map((r: any) => r.userName) ?? [];
    }
    expect(seen).toEqual(['down-0', 'down-1']);
  });
});

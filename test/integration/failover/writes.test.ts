/**
 * Writes with the provider down and its read-only replica up (issue 18): every write is refused
 * with 503 and a SCIM error body, nothing reaches either directory, reads go on from the replica,
 * and /ready says degraded. With the provider back, writes go on (and replicate).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeasuredDirectory } from '../../../src/ldap/index.ts';
import { entriesOf, msUntilServer, type Pair, pause, signal, startPair } from './pair.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
let pair: Pair;
let alice: { id: string };

function newUser(userName: string) {
  return {
    schemas: [USER],
    userName,
    name: { givenName: 'Fail', familyName: 'Over' },
    emails: [{ value: `${userName}@example.org`, type: 'work', primary: true }],
  };
}

const patchTitle = (title: string) => ({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
  Operations: [{ op: 'replace', path: 'title', value: title }],
});

beforeAll(async () => {
  pair = await startPair();
  const found = await pair.bridge.request(
    'GET',
    `/Users?filter=${encodeURIComponent('userName eq "alice"')}`,
  );
  alice = found.body.Resources[0];
}, 60_000);

afterAll(async () => {
  await pair?.stop();
}, 30_000);

function expectUnavailable(response: { status: number; body: any; headers: Headers }): void {
  expect(response.status).toBe(503);
  expect(response.body.schemas).toEqual([ERROR]);
  expect(response.body.status).toBe('503');
  expect(response.headers.get('retry-after')).not.toBeNull();
}

describe('writes with the provider down and the read-only replica up', () => {
  it('are refused with 503 and change nothing; reads go on; writes go on when the provider is back', async () => {
    signal(pair.provider, 'SIGKILL');
    const killedAt = performance.now();

    // The first write finds the provider gone (the connect fails: surely not sent).
    const created = await pair.bridge.request('POST', '/Users', newUser('failover-new'));
    expectUnavailable(created);
    const patched = await pair.bridge.request(
      'PATCH',
      `/Users/${alice.id}`,
      patchTitle('Chief Failover Officer'),
    );
    expectUnavailable(patched);
    const deleted = await pair.bridge.request('DELETE', `/Users/${alice.id}`);
    expectUnavailable(deleted);
    const replaced = await pair.bridge.request('PUT', `/Users/${alice.id}`, {
      ...newUser('alice'),
      id: alice.id,
    });
    expectUnavailable(replaced);
    console.log(
      `[failover] provider killed: POST, PATCH, DELETE, PUT answered 503 within ${Math.round(performance.now() - killedAt)} ms`,
    );

    // Reads go on from the replica.
    const read = await pair.bridge.request('GET', `/Users/${alice.id}`);
    expect(read.status).toBe(200);
    expect(read.body.title).not.toBe('Chief Failover Officer');
    const ready = await fetch(`${pair.bridge.bridge.url}/ready`);
    const readyBody = (await ready.json()) as { status: string; warnings?: string[] };
    expect(ready.status).toBe(200);
    expect(readyBody.status).toBe('degraded');
    expect(readyBody.warnings).toContain(
      'no writable directory server is up: writes get 503 until one answers',
    );

    // Nothing reached the replica (it refers writes to the provider; the bridge never sent one).
    const onReplica = await entriesOf(pair.replica);
    expect([...onReplica.keys()].filter((dn) => dn.includes('failover-new'))).toEqual([]);
    expect(onReplica.has('uid=alice,ou=people,dc=example,dc=com')).toBe(true);

    // Provider back: nothing half-written there either, and writes go on.
    const restartAt = performance.now();
    await pair.provider.restart();
    const failBackMs = await msUntilServer(pair.bridge, 1, 'up', restartAt);
    console.log(`[failover] provider restarted: writable again after ${Math.round(failBackMs)} ms`);
    const onProvider = await entriesOf(pair.provider);
    expect([...onProvider.keys()].filter((dn) => dn.includes('failover-new'))).toEqual([]);
    const aliceNow = await pair.bridge.request('GET', `/Users/${alice.id}`);
    expect(aliceNow.body.title).not.toBe('Chief Failover Officer');

    const createdAfter = await pair.bridge.request('POST', '/Users', newUser('failover-new'));
    expect(createdAfter.status).toBe(201);
    const patchedAfter = await pair.bridge.request('PATCH', `/Users/${alice.id}`, patchTitle('Back Again'));
    expect(patchedAfter.status).toBe(200);
    expect(patchedAfter.body.title).toBe('Back Again');
    // The replica follows the provider again (syncrepl reconnected by itself).
    const giveUpAt = Date.now() + 10_000;
    while (!(await entriesOf(pair.replica)).has('uid=failover-new,ou=people,dc=example,dc=com')) {
      if (Date.now() > giveUpAt) throw new Error('the replica did not receive the new user within 10 s');
      await pause(50);
    }
  }, 60_000);

  it('a write the readWrite server refers elsewhere (a replica listed as readWrite) is 503, not sent twice', async () => {
    // The replica listed as the only writable server: a misconfiguration the referral reveals.
    const { startTestBridge } = await import('../../harness/bridge.ts');
    const misconfigured = await startTestBridge({
      env: {
        SCIM_BRIDGE_LDAP_URLS: JSON.stringify([{ url: pair.replica.url, role: 'readWrite' }]),
        SCIM_BRIDGE_LDAP_BIND_DN: pair.provider.serviceDn,
        SCIM_BRIDGE_LDAP_BIND_PASSWORD: pair.provider.servicePassword,
        SCIM_BRIDGE_MAPPINGS_WATCH: 'false',
      },
    });
    try {
      const response = await misconfigured.request('POST', '/Users', newUser('referred-user'));
      expectUnavailable(response);
      const servers = (misconfigured.bridge.directory as MeasuredDirectory).servers();
      expect(servers.map((s) => s.state)).toEqual(['up']);
      expect(
        [...(await entriesOf(pair.provider)).keys()].filter((dn) => dn.includes('referred-user')),
      ).toEqual([]);
    } finally {
      await misconfigured.stop();
    }
  }, 60_000);
});

/**
 * ETags (RFC 7644 §3.14): meta.version and ETag on every resource, If-None-Match -> 304, If-Match
 * -> 412 on mismatch, enforced atomically by the LDAP Assertion control (RFC 4528).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../harness/bridge.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
let t: TestBridge;

beforeAll(async () => {
  t = await startTestBridge({ seed: 'empty' });
});
afterAll(async () => {
  await t?.stop();
});

async function newUser(userName: string) {
  const r = await t.request('POST', '/Users', { schemas: [USER], userName, displayName: 'v0' });
  expect(r.status).toBe(201);
  return r;
}

const patchDisplayName = (value: string) => ({
  schemas: [PATCH],
  Operations: [{ op: 'replace', path: 'displayName', value }],
});

describe('ETags', () => {
  it('GET returns the ETag; If-None-Match with it gives 304; a write changes it', async () => {
    const created = await newUser('etag-a');
    const etag = created.headers.get('etag')!;
    expect(etag).toMatch(/^W\/".+"$/);
    const notModified = await t.request('GET', `/Users/${created.body.id}`, undefined, {
      'If-None-Match': etag,
    });
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    const patched = await t.request('PATCH', `/Users/${created.body.id}`, patchDisplayName('v1'));
    expect(patched.headers.get('etag')).not.toBe(etag);
    const modified = await t.request('GET', `/Users/${created.body.id}`, undefined, {
      'If-None-Match': etag,
    });
    expect(modified.status).toBe(200);
  });

  it('If-Match with a stale version gives 412 and changes nothing', async () => {
    const created = await newUser('etag-b');
    const stale = created.headers.get('etag')!;
    await t.request('PATCH', `/Users/${created.body.id}`, patchDisplayName('v1'));
    for (const [method, body] of [
      ['PATCH', patchDisplayName('v2')],
      ['PUT', { schemas: [USER], userName: 'etag-b', displayName: 'v2' }],
      ['DELETE', undefined],
    ] as const) {
      const r = await t.request(method, `/Users/${created.body.id}`, body, { 'If-Match': stale });
      expect(r.status, method).toBe(412);
    }
    const now = await t.request('GET', `/Users/${created.body.id}`);
    expect(now.body.displayName).toBe('v1');
  });

  it('a stale If-Match on a PUT that also renames writes nothing, not even the rename', async () => {
    const created = await newUser('etag-rename');
    const stale = created.headers.get('etag')!;
    await t.request('PATCH', `/Users/${created.body.id}`, patchDisplayName('v1'));
    const r = await t.request(
      'PUT',
      `/Users/${created.body.id}`,
      { schemas: [USER], userName: 'etag-renamed', displayName: 'v2' },
      { 'If-Match': stale },
    );
    expect(r.status).toBe(412);
    const now = await t.request('GET', `/Users/${created.body.id}`);
    expect(now.body).toMatchObject({ userName: 'etag-rename', displayName: 'v1' });
  });

  it('If-Match with the current version succeeds', async () => {
    const created = await newUser('etag-c');
    const r = await t.request('PATCH', `/Users/${created.body.id}`, patchDisplayName('v1'), {
      'If-Match': created.headers.get('etag')!,
    });
    expect(r.status).toBe(200);
    expect(r.body.displayName).toBe('v1');
  });

  it('two concurrent conditional writes with the same version: exactly one wins', async () => {
    for (let round = 0; round < 5; round++) {
      const created = await newUser(`etag-race-${round}`);
      const etag = created.headers.get('etag')!;
      const results = await Promise.all(
        ['left', 'right'].map((side) =>
          t.request('PATCH', `/Users/${created.body.id}`, patchDisplayName(side), { 'If-Match': etag }),
        ),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 412]);
      const winner = results.find((r) => r.status === 200)!.body.displayName;
      const now = await t.request('GET', `/Users/${created.body.id}`);
      expect(now.body.displayName).toBe(winner);
    }
  });

  it('ServiceProviderConfig advertises etag support', async () => {
    const r = await t.request('GET', '/ServiceProviderConfig');
    expect(r.body.etag).toEqual({ supported: true });
  });
});

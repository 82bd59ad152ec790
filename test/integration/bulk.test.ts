/**
 * Bulk (RFC 7644 §3.7) against the real stack: order, bulkId references (a group whose members
 * are users created earlier in the same request), failOnErrors, limits.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../harness/bridge.ts';

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
let t: TestBridge;
let ldap: Client;

beforeAll(async () => {
  t = await startTestBridge({
    seed: 'empty',
    env: { SCIM_BRIDGE_LIMITS_BULK_MAX_OPERATIONS: '5', SCIM_BRIDGE_LIMITS_BULK_MAX_PAYLOAD_BYTES: '4096' },
  });
  ldap = await rootClientOf(t);
});
afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
});

async function uids(): Promise<string[]> {
  const { searchEntries } = await ldap.search('ou=People,dc=example,dc=com', {
    scope: 'one',
    filter: '(uid=*)',
    attributes: ['uid'],
  });
  return searchEntries.map((e) => String(e.uid)).sort();
}

describe('Bulk', () => {
  it('creates users and a group that references them by bulkId, in order', async () => {
    const r = await t.request('POST', '/Bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'u1', data: { schemas: [USER], userName: 'bulk-1' } },
        { method: 'POST', path: '/Users', bulkId: 'u2', data: { schemas: [USER], userName: 'bulk-2' } },
        {
          method: 'POST',
          path: '/Groups',
          bulkId: 'g1',
          data: {
            schemas: [GROUP],
            displayName: 'bulk-group',
            members: [{ value: 'bulkId:u1' }, { value: 'bulkId:u2' }],
          },
        },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:BulkResponse']);
    expect(r.body.Operations.map((o: { status: string }) => o.status)).toEqual(['201', '201', '201']);
    expect(r.body.Operations[0].location).toMatch(/\/Users\/[0-9a-f-]{36}$/);
    const group = await t.request('GET', r.body.Operations[2].location.replace(t.baseUrl, ''));
    const memberIds = group.body.members.map((m: { value: string }) => m.value).sort();
    const userIds = [0, 1].map((i) => r.body.Operations[i].location.split('/').pop()).sort();
    expect(memberIds).toEqual(userIds);
  });

  it('reports per-operation errors and stops after failOnErrors', async () => {
    const before = await uids();
    const r = await t.request('POST', '/Bulk', {
      schemas: [BULK],
      failOnErrors: 1,
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'a', data: { schemas: [USER], userName: 'bulk-1' } },
        { method: 'POST', path: '/Users', bulkId: 'b', data: { schemas: [USER], userName: 'bulk-never' } },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.Operations).toHaveLength(1);
    expect(r.body.Operations[0]).toMatchObject({ status: '409', response: { scimType: 'uniqueness' } });
    expect(await uids()).toEqual(before);
  });

  it('an unknown bulkId reference is an error of that operation', async () => {
    const r = await t.request('POST', '/Bulk', {
      schemas: [BULK],
      Operations: [
        {
          method: 'POST',
          path: '/Groups',
          bulkId: 'g',
          data: { schemas: [GROUP], displayName: 'x', members: [{ value: 'bulkId:nope' }] },
        },
      ],
    });
    expect(r.body.Operations[0]).toMatchObject({ status: '400', response: { scimType: 'invalidValue' } });
  });

  it('enforces maxOperations and maxPayloadSize with 413', async () => {
    const ops = Array.from({ length: 6 }, (_, i) => ({ method: 'DELETE', path: `/Users/${i}` }));
    expect((await t.request('POST', '/Bulk', { schemas: [BULK], Operations: ops })).status).toBe(413);
    const big = [
      {
        method: 'POST',
        path: '/Users',
        bulkId: 'x',
        data: { schemas: [USER], userName: 'big', displayName: 'x'.repeat(5000) },
      },
    ];
    expect((await t.request('POST', '/Bulk', { schemas: [BULK], Operations: big })).status).toBe(413);
    expect(await uids()).not.toContain('big');
  });

  it('refuses malformed bulk requests with 400', async () => {
    for (const body of [
      { Operations: [] },
      { schemas: [BULK], Operations: [{ method: 'GET', path: '/Users' }] },
      { schemas: [BULK], Operations: [{ method: 'POST', path: '/Users', data: {} }] },
    ]) {
      const r = await t.request('POST', '/Bulk', body);
      expect(r.status).toBe(400);
    }
  });

  it('advertises bulk support and its limits', async () => {
    const r = await t.request('GET', '/ServiceProviderConfig');
    expect(r.body.bulk).toEqual({ supported: true, maxOperations: 5, maxPayloadSize: 4096 });
  });
});

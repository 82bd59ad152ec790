/**
 * Hostile input, class "Bulk references" (issue 15, Low): RFC 7644 §3.7.2 resolves `bulkId:`
 * only in attributes that hold references (here members.value); a string that merely looks like
 * one anywhere else (a userName, a title) is data and is stored as sent. Circular references the
 * service does not resolve are 409 (RFC 7644 §3.7.1), and a group never contains itself.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { BULK_REQUEST, GROUP, said, USER } from './helpers.ts';

let t: TestBridge;
let ldap: Client;

beforeAll(async () => {
  t = await startTestBridge({ seed: 'empty' });
  ldap = await rootClientOf(t);
});
afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
});

interface BulkOperation {
  status: string;
  location?: string;
  response?: { scimType?: string; detail?: string };
}

async function bulk(Operations: unknown[]): Promise<BulkOperation[]> {
  const r = await t.request('POST', '/Bulk', { schemas: [BULK_REQUEST], Operations });
  expect(r.status, said(r)).toBe(200);
  return r.body.Operations as BulkOperation[];
}

async function read(location: string | undefined): Promise<Record<string, any>> {
  if (!location) throw new Error('no location');
  const r = await t.request('GET', location.replace(t.baseUrl, ''));
  expect(r.status, said(r)).toBe(200);
  return r.body;
}

describe('hostile input: bulkId references', () => {
  it('members.value bulkId references are resolved (the RFC 7644 §3.7.2 case stays served)', async () => {
    const [user, group] = await bulk([
      { method: 'POST', path: '/Users', bulkId: 'ok-u', data: { schemas: [USER], userName: 'ref.ok' } },
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'ok-g',
        data: { schemas: [GROUP], displayName: 'ref.ok', members: [{ value: 'bulkId:ok-u' }] },
      },
    ]);
    expect(group?.status).toBe('201');
    const members = (await read(group?.location)).members as { value: string }[];
    expect(members.map((m) => m.value)).toEqual([user?.location?.split('/').pop()]);
  });

  it('a userName or title that reads "bulkId:x" is stored as sent, not rewritten into an id', async () => {
    const [first, second] = await bulk([
      { method: 'POST', path: '/Users', bulkId: 'a1', data: { schemas: [USER], userName: 'ref.target' } },
      {
        method: 'POST',
        path: '/Users',
        bulkId: 'a2',
        data: { schemas: [USER], userName: 'bulkId:a1', title: 'bulkId:a1', displayName: 'see bulkId:a1' },
      },
    ]);
    expect(first?.status).toBe('201');
    expect(second?.status, JSON.stringify(second)).toBe('201');
    const user = await read(second?.location);
    expect(user.userName).toBe('bulkId:a1');
    expect(user.title).toBe('bulkId:a1');
    expect(user.displayName).toBe('see bulkId:a1');
  });

  it('a group that references itself by bulkId is 409 and is not made its own member', async () => {
    const [self] = await bulk([
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'self',
        data: { schemas: [GROUP], displayName: 'ref.self', members: [{ value: 'bulkId:self' }] },
      },
    ]);
    expect(self?.status, JSON.stringify(self)).toBe('409');
    const { searchEntries } = await ldap.search('ou=Groups,dc=example,dc=com', {
      scope: 'one',
      filter: '(cn=ref.self)',
      attributes: ['member'],
    });
    for (const entry of searchEntries) expect([entry.member].flat().map(String)).not.toContain(entry.dn);
  });

  it('two groups that reference each other are either both resolved or answered 409, never 500', async () => {
    const operations = await bulk([
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'c1',
        data: { schemas: [GROUP], displayName: 'ref.cycle1', members: [{ value: 'bulkId:c2' }] },
      },
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'c2',
        data: { schemas: [GROUP], displayName: 'ref.cycle2', members: [{ value: 'bulkId:c1' }] },
      },
    ]);
    const statuses = operations.map((o) => o.status);
    if (statuses.every((s) => s === '201')) {
      const [one, two] = await Promise.all(operations.map((o) => read(o.location)));
      expect(one?.members?.[0]?.value).toBe(two?.id);
      expect(two?.members?.[0]?.value).toBe(one?.id);
    } else {
      expect(statuses, JSON.stringify(operations)).toContain('409');
      for (const status of statuses) expect(['201', '409']).toContain(status);
    }
  });
});

describe('hostile input: a group never contains itself', () => {
  for (const how of ['PATCH add', 'PATCH replace', 'PUT'] as const) {
    it(`${how} of the group's own id is 400 invalidValue and changes nothing`, async () => {
      const created = await t.request('POST', '/Groups', { schemas: [GROUP], displayName: `self.${how}` });
      expect(created.status, said(created)).toBe(201);
      const id = created.body.id as string;
      const members = [{ value: id }];
      const r =
        how === 'PUT'
          ? await t.request('PUT', `/Groups/${id}`, { schemas: [GROUP], displayName: `self.${how}`, members })
          : await t.request('PATCH', `/Groups/${id}`, {
              schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
              Operations: [{ op: how === 'PATCH add' ? 'add' : 'replace', path: 'members', value: members }],
            });
      expect(r.status, said(r)).toBe(400);
      expect(r.body.scimType).toBe('invalidValue');
      const after = await t.request('GET', `/Groups/${id}`);
      expect(after.body.members ?? []).toEqual([]);
    });
  }
});

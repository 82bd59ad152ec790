/**
 * Groups and membership over HTTP against a real slapd: membership changes are value add/delete
 * on the group entry, checked in the directory with a separate ldapts client.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../harness/bridge.ts';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const PLACEHOLDER = 'cn=empty-group-placeholder,dc=example,dc=com';

let t: TestBridge;
let ldap: Client;

async function members(cn: string): Promise<string[]> {
  const { searchEntries } = await ldap.search('ou=Groups,dc=example,dc=com', {
    scope: 'one',
    filter: `(cn=${cn})`,
    attributes: ['member'],
  });
  const value = searchEntries[0]?.member ?? [];
  return (Array.isArray(value) ? value : [value])
    .map(String)
    .map((d) => d.toLowerCase())
    .sort();
}

async function createUser(userName: string): Promise<{ id: string; dn: string }> {
  const r = await t.request('POST', '/Users', { schemas: [USER], userName });
  expect(r.status).toBe(201);
  return { id: r.body.id, dn: `uid=${userName},ou=people,dc=example,dc=com` };
}

beforeAll(async () => {
  t = await startTestBridge({ seed: 'empty' });
  ldap = await rootClientOf(t);
});
afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
});

describe('groups', () => {
  it('creates an empty group: the placeholder stands in the directory, SCIM shows no members', async () => {
    const r = await t.request('POST', '/Groups', { schemas: [GROUP], displayName: 'empty-one' });
    expect(r.status).toBe(201);
    expect(r.body.members ?? []).toEqual([]);
    expect(await members('empty-one')).toEqual([PLACEHOLDER]);
  });

  it('creates a group with members and lists them with ids, $ref and display', async () => {
    const a = await createUser('gm-a');
    const b = await createUser('gm-b');
    const r = await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'with-members',
      members: [{ value: a.id }, { value: b.id }],
    });
    expect(r.status).toBe(201);
    expect(await members('with-members')).toEqual([a.dn, b.dn, PLACEHOLDER].sort());
    const got = await t.request('GET', `/Groups/${r.body.id}`);
    const values = got.body.members.map((m: { value: string }) => m.value).sort();
    expect(values).toEqual([a.id, b.id].sort());
    expect(got.body.members[0].$ref).toMatch(/\/Users\//);
    // the user side: groups derived from memberOf
    const user = await t.request('GET', `/Users/${a.id}`);
    expect(user.body.groups.map((g: { value: string }) => g.value)).toEqual([r.body.id]);
  });

  it('adds and removes one member as a delta, Entra style, answering 204', async () => {
    const a = await createUser('gd-a');
    const b = await createUser('gd-b');
    const g = await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'delta',
      members: [{ value: a.id }],
    });
    const add = await t.request('PATCH', `/Groups/${g.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: b.id }] }],
    });
    expect(add.status).toBe(204);
    expect(await members('delta')).toEqual([a.dn, b.dn, PLACEHOLDER].sort());
    // retried add of a present member succeeds and changes nothing
    const again = await t.request('PATCH', `/Groups/${g.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: b.id }] }],
    });
    expect(again.status).toBe(204);
    const remove = await t.request('PATCH', `/Groups/${g.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Remove', path: 'members', value: [{ value: a.id }] }],
    });
    expect(remove.status).toBe(204);
    expect(await members('delta')).toEqual([b.dn, PLACEHOLDER].sort());
    const byFilter = await t.request('PATCH', `/Groups/${g.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: `members[value eq "${b.id}"]` }],
    });
    expect(byFilter.status).toBe(204);
    expect(await members('delta')).toEqual([PLACEHOLDER]);
  });

  it('replaces the member list with the delta against the current members', async () => {
    const a = await createUser('gr-a');
    const b = await createUser('gr-b');
    const c = await createUser('gr-c');
    const g = await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'replace',
      members: [{ value: a.id }, { value: b.id }],
    });
    const r = await t.request('PATCH', `/Groups/${g.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'members', value: [{ value: b.id }, { value: c.id }] }],
    });
    expect(r.status).toBe(204);
    expect(await members('replace')).toEqual([b.dn, c.dn, PLACEHOLDER].sort());
  });

  it('nests groups', async () => {
    const inner = await t.request('POST', '/Groups', { schemas: [GROUP], displayName: 'inner' });
    const outer = await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'outer',
      members: [{ value: inner.body.id }],
    });
    expect(outer.status).toBe(201);
    expect(await members('outer')).toContain('cn=inner,ou=groups,dc=example,dc=com');
    const got = await t.request('GET', `/Groups/${outer.body.id}`);
    expect(got.body.members).toEqual([expect.objectContaining({ value: inner.body.id, type: 'Group' })]);
  });

  // Found on 389-DS: a group looked up by id as a member (above) went into the reference cache
  // without its display, and a user's `groups` then showed it without one.
  it("a nested group keeps its display in a member user's groups", async () => {
    const inner = await t.request('POST', '/Groups', { schemas: [GROUP], displayName: 'inner2' });
    const user = await createUser('nested.member');
    await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'outer2',
      members: [{ value: inner.body.id }],
    });
    const patch = await t.request('PATCH', `/Groups/${inner.body.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }] }],
    });
    expect([200, 204]).toContain(patch.status);
    const got = await t.request('GET', `/Users/${user.id}`);
    expect(got.body.groups).toEqual([expect.objectContaining({ value: inner.body.id, display: 'inner2' })]);
  });

  it('refuses unknown member ids with 400 invalidValue naming them, and changes nothing', async () => {
    const a = await createUser('gu-a');
    const g = await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'unknown',
      members: [{ value: a.id }],
    });
    const before = await members('unknown');
    const r = await t.request('PATCH', `/Groups/${g.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: 'no-such-id' }, { value: a.id }] }],
    });
    expect(r.status).toBe(400);
    expect(r.body.scimType).toBe('invalidValue');
    expect(r.body.detail).toContain('no-such-id');
    expect(await members('unknown')).toEqual(before);
  });

  it('renames a group: the id and the memberships survive', async () => {
    const a = await createUser('gn-a');
    const g = await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'old-name',
      members: [{ value: a.id }],
    });
    const r = await t.request('PATCH', `/Groups/${g.body.id}?attributes=displayName,members`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { id: g.body.id, displayName: 'new-name' } }],
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: g.body.id, displayName: 'new-name' });
    expect(await members('new-name')).toContain(a.dn);
    expect(await members('old-name')).toEqual([]);
    const user = await t.request('GET', `/Users/${a.id}`);
    expect(user.body.groups).toEqual([expect.objectContaining({ value: g.body.id, display: 'new-name' })]);
  });

  it('deleting a user removes it from its groups', async () => {
    const a = await createUser('gx-a');
    await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'cleanup',
      members: [{ value: a.id }],
    });
    expect(await members('cleanup')).toContain(a.dn);
    expect((await t.request('DELETE', `/Users/${a.id}`)).status).toBe(204);
    expect(await members('cleanup')).toEqual([PLACEHOLDER]);
  });

  it('GET /Groups?excludedAttributes=members leaves members out', async () => {
    const r = await t.request('GET', '/Groups?excludedAttributes=members');
    expect(r.status).toBe(200);
    expect(r.body.Resources.length).toBeGreaterThan(0);
    for (const g of r.body.Resources) expect(g.members).toBeUndefined();
  });
});

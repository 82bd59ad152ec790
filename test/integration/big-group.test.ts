/**
 * A group bigger than the directory's soft size limit (500 for the service account) and bigger than
 * the slice the response writer streams (2,000): its members are read through a paged walk,
 * visited page by page, and the JSON goes out in pieces (chunked). Every member must be there,
 * exactly once, with the id slapd holds for it.
 */
import { Attribute, Change, type Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../harness/bridge.ts';

const MEMBERS = 2_600;
const PEOPLE = 'ou=People,dc=example,dc=com';
const GROUP_DN = 'cn=big,ou=Groups,dc=example,dc=com';
let t: TestBridge;
let ldap: Client;
let groupId: string;
const expectedIds = new Set<string>();

beforeAll(async () => {
  t = await startTestBridge({ seed: 'empty' });
  ldap = await rootClientOf(t);
  const dns: string[] = [];
  for (let start = 0; start < MEMBERS; start += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, MEMBERS - start) }, async (_, k) => {
        const uid = `member${String(start + k).padStart(5, '0')}`;
        const dn = `uid=${uid},${PEOPLE}`;
        dns.push(dn);
        await ldap.add(dn, {
          objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
          uid,
          cn: uid,
          sn: uid,
        });
      }),
    );
  }
  await ldap.add(GROUP_DN, { objectClass: ['top', 'groupOfNames'], cn: 'big', member: dns.slice(0, 1000) });
  // The rest in a second modify, as an IdP adding members over time would.
  await ldap.modify(GROUP_DN, [
    new Change({
      operation: 'add',
      modification: new Attribute({ type: 'member', values: dns.slice(1000) }),
    }),
  ]);
  const { searchEntries } = await ldap.search(PEOPLE, {
    scope: 'one',
    filter: `(memberOf=${GROUP_DN})`,
    attributes: ['entryUUID'],
    paged: { pageSize: 500 },
  });
  for (const e of searchEntries) expectedIds.add(String(e.entryUUID));
  const group = await ldap.search(GROUP_DN, { scope: 'base', attributes: ['entryUUID'] });
  groupId = String(group.searchEntries[0]?.entryUUID);
}, 120_000);

afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
});

describe(`GET of a group of ${MEMBERS} members`, () => {
  it('has every member exactly once, streamed in pieces', async () => {
    expect(expectedIds.size).toBe(MEMBERS); // the directory's own view, through memberOf
    const r = await t.request('GET', `/Groups/${groupId}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/scim+json');
    expect(r.headers.get('transfer-encoding')).toBe('chunked');
    expect(r.headers.get('etag')).toMatch(/^W\//);
    expect(r.body.displayName).toBe('big');
    const ids = (r.body.members as { value: string; $ref: string; type: string }[]).map((m) => m.value);
    expect(ids.length).toBe(MEMBERS);
    expect(new Set(ids)).toEqual(expectedIds);
    expect(r.body.members[0].$ref).toMatch(/\/Users\//);
  });

  it('excludedAttributes=members answers small, with a length', async () => {
    const r = await t.request('GET', `/Groups/${groupId}?excludedAttributes=members`);
    expect(r.status).toBe(200);
    expect(r.body.members).toBeUndefined();
    expect(r.headers.get('content-length')).toBe(String(Buffer.byteLength(r.text)));
  });

  it('a member added by PATCH shows up in the next GET', async () => {
    const created = await t.request('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'late.joiner',
    });
    const patch = await t.request('PATCH', `/Groups/${groupId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'add', path: 'members', value: [{ value: created.body.id }] }],
    });
    expect([200, 204]).toContain(patch.status);
    const r = await t.request('GET', `/Groups/${groupId}?attributes=members`);
    const ids = new Set((r.body.members as { value: string }[]).map((m) => m.value));
    expect(ids.size).toBe(MEMBERS + 1);
    expect(ids.has(created.body.id)).toBe(true);
  });
});

/**
 * Entries placed in OUs by an attribute (issue: renames and moves): the OpenLDAP preset with a DN
 * template `uid={userName},ou={department},ou=People,...`. A change of the department is a
 * modifyDN with a new superior (RFC 4511 §4.9): the entry moves, its id (entryUUID) and its group
 * memberships survive. Real slapd; checked with raw ldapts.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PEOPLE = 'ou=People,dc=example,dc=com';
let dir: string;
let t: TestBridge;
let ldap: Client;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ou-mappings-'));
  cpSync('mappings/openldap', dir, { recursive: true });
  const file = join(dir, 'users.yaml');
  const text = readFileSync(file, 'utf8')
    .replace('  scope: one\n', '  scope: sub\n')
    .replace(
      'dnTemplate: uid={userName},ou=People,dc=example,dc=com',
      `dnTemplate: "uid={userName},ou={${ENTERPRISE}:department},ou=People,dc=example,dc=com"`,
    );
  expect(text).toContain(`ou={${ENTERPRISE}:department}`);
  writeFileSync(file, text);
  t = await startTestBridge({ seed: 'empty', env: { SCIM_BRIDGE_MAPPINGS_DIR: dir } });
  ldap = await rootClientOf(t);
  for (const ou of ['Sales', 'Engineering'])
    await ldap.add(`ou=${ou},${PEOPLE}`, { objectClass: ['top', 'organizationalUnit'], ou });
});

afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function dnOf(uid: string): Promise<{ dn: string; entryUUID: string } | undefined> {
  const { searchEntries } = await ldap.search(PEOPLE, {
    scope: 'sub',
    filter: `(uid=${uid})`,
    attributes: ['entryUUID'],
  });
  const e = searchEntries[0];
  return e ? { dn: e.dn.toLowerCase(), entryUUID: String(e.entryUUID) } : undefined;
}

describe('moves between OUs by an attribute', () => {
  it('creates the entry in the OU its department names', async () => {
    const r = await t.request('POST', '/Users', {
      schemas: [USER, ENTERPRISE],
      userName: 'mover',
      [ENTERPRISE]: { department: 'Sales' },
    });
    expect(r.status).toBe(201);
    expect(await dnOf('mover')).toEqual({
      dn: `uid=mover,ou=sales,${PEOPLE.toLowerCase()}`,
      entryUUID: r.body.id,
    });
  });

  it('moves it when the department changes, keeping the id and the group membership', async () => {
    const user = (await t.request('GET', '/Users?filter=userName eq "mover"')).body.Resources[0];
    const group = await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'movers',
      members: [{ value: user.id }],
    });
    expect(group.status).toBe(201);
    const r = await t.request('PATCH', `/Users/${user.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: `${ENTERPRISE}:department`, value: 'Engineering' }],
    });
    expect(r.status).toBe(200);
    expect(r.body.id).toBe(user.id);
    expect(await dnOf('mover')).toEqual({
      dn: `uid=mover,ou=engineering,${PEOPLE.toLowerCase()}`,
      entryUUID: user.id,
    });
    // memberof-refint rewrote the group's member value; memberOf follows the moved entry.
    const { searchEntries } = await ldap.search('cn=movers,ou=Groups,dc=example,dc=com', {
      scope: 'base',
      attributes: ['member'],
    });
    expect([searchEntries[0]?.member].flat().map((m) => String(m).toLowerCase())).toContain(
      `uid=mover,ou=engineering,${PEOPLE.toLowerCase()}`,
    );
    const again = await t.request('GET', `/Users/${user.id}`);
    expect(again.body[ENTERPRISE].department).toBe('Engineering');
    expect(again.body.groups).toEqual([expect.objectContaining({ value: group.body.id, display: 'movers' })]);
    const members = await t.request('GET', `/Groups/${group.body.id}`);
    expect(members.body.members).toEqual([expect.objectContaining({ value: user.id })]);
  });

  it('a department with no OU is refused and nothing moves', async () => {
    const user = (await t.request('GET', '/Users?filter=userName eq "mover"')).body.Resources[0];
    const r = await t.request('PATCH', `/Users/${user.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: `${ENTERPRISE}:department`, value: 'Nowhere' }],
    });
    expect(r.status).toBe(400);
    expect(r.body.scimType).toBe('invalidValue');
    expect(r.body.detail).toContain('ou=Nowhere');
    expect((await dnOf('mover'))?.dn).toBe(`uid=mover,ou=engineering,${PEOPLE.toLowerCase()}`);
    expect((await t.request('GET', `/Users/${user.id}`)).body[ENTERPRISE].department).toBe('Engineering');
  });

  it('a create into a department with no OU is a client error and creates nothing', async () => {
    const r = await t.request('POST', '/Users', {
      schemas: [USER, ENTERPRISE],
      userName: 'lost',
      [ENTERPRISE]: { department: 'Nowhere' },
    });
    expect(r.status).toBe(400);
    expect(r.body.detail).toContain('ou=Nowhere');
    expect(await dnOf('lost')).toBeUndefined();
  });
});

/**
 * deleteMode: disable (the mapping's choice, common for AD): DELETE keeps the entry, sets active to
 * false and removes its group memberships. Checked in the directory with a separate client.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../harness/bridge.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
let t: TestBridge;
let ldap: Client;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mappings-disable-'));
  cpSync('mappings/openldap', dir, { recursive: true });
  const users = path.join(dir, 'users.yaml');
  writeFileSync(
    users,
    readFileSync(users, 'utf8').replace('  id: entryUUID\n', '  id: entryUUID\n  deleteMode: disable\n'),
  );
  t = await startTestBridge({ seed: 'empty', env: { SCIM_BRIDGE_MAPPINGS_DIR: dir } });
  ldap = await rootClientOf(t);
});
afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('deleteMode: disable', () => {
  it('keeps the entry, disables it and removes its memberships', async () => {
    const user = await t.request('POST', '/Users', { schemas: [USER], userName: 'leaver', active: true });
    const other = await t.request('POST', '/Users', { schemas: [USER], userName: 'stayer' });
    const group = await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'team',
      members: [{ value: user.body.id }, { value: other.body.id }],
    });
    expect(group.status).toBe(201);
    const r = await t.request('DELETE', `/Users/${user.body.id}`);
    expect(r.status).toBe(204);
    const { searchEntries } = await ldap.search('ou=People,dc=example,dc=com', {
      scope: 'one',
      filter: '(uid=leaver)',
      attributes: ['scimActive', 'memberOf'],
    });
    expect(searchEntries).toHaveLength(1);
    expect(searchEntries[0]?.scimActive).toBe('FALSE');
    expect(searchEntries[0]?.memberOf ?? []).toEqual([]);
    const g = await ldap.search('ou=Groups,dc=example,dc=com', {
      scope: 'one',
      filter: '(cn=team)',
      attributes: ['member'],
    });
    const members = [g.searchEntries[0]?.member ?? []].flat().map((m) => String(m).toLowerCase());
    expect(members).not.toContain('uid=leaver,ou=people,dc=example,dc=com');
    expect(members).toContain('uid=stayer,ou=people,dc=example,dc=com');
    const after = await t.request('GET', `/Users/${user.body.id}`);
    expect(after.body).toMatchObject({ active: false });
    // In no group any more: groups is unassigned, so left out (RFC 7643 §2.5).
    expect(after.body.groups).toBeUndefined();
  });
});

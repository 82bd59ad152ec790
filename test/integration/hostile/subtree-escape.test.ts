/**
 * Hostile input, class "subtree escape" (issue 15: held; kept so it stays held): a resource type
 * reaches only entries under its own base and filter. Ids of other entries — another type's, the
 * suffix, the service account, the placeholder — are unknown (404 per RFC 7644 §3.12; a member value
 * is 400), however they are spelled, and nothing outside is read or changed.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { expectScimError, GROUP, idOf, PATCH_OP, SUFFIX, said, snapshot, USER } from './helpers.ts';

let t: TestBridge;
let ldap: Client;
/** entryUUIDs of entries that are no User: the suffix, the OUs, a group, the service account. */
let foreignIds: string[];

beforeAll(async () => {
  t = await startTestBridge();
  ldap = await rootClientOf(t);
  const { searchEntries } = await ldap.search(SUFFIX, {
    scope: 'sub',
    filter: '(!(objectClass=inetOrgPerson))',
    attributes: ['entryUUID'],
  });
  foreignIds = searchEntries.map((e) => String(e.entryUUID));
});
afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
});

describe('hostile input: subtree escape', () => {
  it('the ids of entries that are not Users are 404 on every /Users method and change nothing', async () => {
    expect(foreignIds.length).toBeGreaterThan(3);
    const before = await snapshot(ldap);
    for (const id of foreignIds) {
      expectScimError(await t.request('GET', `/Users/${id}`), 404);
      expectScimError(
        await t.request('PUT', `/Users/${id}`, { schemas: [USER], userName: 'escape.put' }),
        404,
      );
      const patch = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'escaped' }] };
      expectScimError(await t.request('PATCH', `/Users/${id}`, patch), 404);
      expectScimError(await t.request('DELETE', `/Users/${id}`), 404);
    }
    expect(await snapshot(ldap)).toEqual(before);
  });

  it('a User id is 404 under /Groups', async () => {
    const id = await idOf(t, 'alice');
    expectScimError(await t.request('GET', `/Groups/${id}`), 404);
    expectScimError(await t.request('DELETE', `/Groups/${id}`), 404);
  });

  for (const id of [
    'uid=alice,ou=People,dc=example,dc=com',
    '..%2F..%2Fdc=example,dc=com',
    '*',
    '%00',
    'alice',
  ]) {
    it(`an id spelled ${JSON.stringify(id)} is 404`, async () => {
      const r = await t.request('GET', `/Users/${id}`);
      expect(r.status, said(r)).toBe(404);
    });
  }

  it('a member value naming an entry outside Users and Groups is 400 and the group keeps its members', async () => {
    const before = await snapshot(ldap);
    const group = await t.request(
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "engineering"')}`,
    );
    const groupId = group.body.Resources[0].id as string;
    for (const id of foreignIds) {
      const r = await t.request('PATCH', `/Groups/${groupId}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }],
      });
      if (r.status < 300) {
        // A group may hold groups: only ids of Groups may pass, and then they are real groups.
        const added = await t.request('GET', `/Groups/${id}`);
        expect(added.status, `member ${id} accepted: ${said(r)}`).toBe(200);
        continue;
      }
      expectScimError(r, 400);
    }
    const after = await snapshot(ldap);
    expect(after.filter((line) => !line.startsWith('cn=engineering'))).toEqual(
      before.filter((line) => !line.startsWith('cn=engineering')),
    );
  });

  it('a filter cannot widen the search beyond the type (an objectClass-like attribute is unknown)', async () => {
    expectScimError(
      await t.request('GET', `/Users?filter=${encodeURIComponent('objectClass pr')}`),
      400,
      'invalidFilter',
    );
    const r = await t.request('GET', `/Groups?filter=${encodeURIComponent('displayName pr')}&count=100`);
    const names = (r.body.Resources as { displayName: string }[]).map((g) => g.displayName);
    expect(names).not.toContain('People');
    expect(names).not.toContain('empty-group-placeholder');
    expect(r.body.Resources.every((g: { schemas: string[] }) => g.schemas.includes(GROUP))).toBe(true);
  });
});

/**
 * Requests as Microsoft Entra ID and Okta send them (shapes taken from their provisioning logs and
 * documentation), replayed over HTTP against the real stack; outcomes checked in the directory.
 * Each quirk is named beside its fixture.
 */
import { createHash } from 'node:crypto';
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../harness/bridge.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
let t: TestBridge;
let ldap: Client;
/** A second client configured as Entra ID is: `patchResponse: 204` on its token. */
const ENTRA_TOKEN = 'entra-token-for-dialect-tests-0123456789';
const asEntra = { Authorization: `Bearer ${ENTRA_TOKEN}` };

async function entry(uid: string): Promise<Record<string, unknown> | undefined> {
  const { searchEntries } = await ldap.search('ou=People,dc=example,dc=com', {
    scope: 'one',
    filter: `(uid=${uid})`,
    attributes: ['*'],
  });
  return searchEntries[0];
}

beforeAll(async () => {
  t = await startTestBridge({
    seed: 'empty',
    env: {
      SCIM_BRIDGE_AUTH_TOKENS: JSON.stringify([
        {
          name: 'entra',
          sha256: createHash('sha256').update(ENTRA_TOKEN).digest('hex'),
          patchResponse: 204,
        },
      ]),
    },
  });
  ldap = await rootClientOf(t);
});
afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
});

describe('Microsoft Entra ID', () => {
  it('POST with meta, nulls, empty roles, the malformed enterprise URN and odd attribute case', async () => {
    const r = await t.request('POST', '/users', {
      schemas: [USER, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0User'], // Entra's missing colon
      externalId: 'e-100',
      UserName: 'entra.user@example.org', // attribute names in any case (RFC 7643 §2.1)
      active: 'True', // booleans as strings
      displayName: 'Entra User',
      name: { formatted: null, familyName: 'User', givenName: 'Entra' }, // nulls mean unassigned
      roles: [], // empty arrays mean unassigned
      meta: { resourceType: 'User' }, // readOnly, ignored
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0User': { employeeNumber: '100' },
    });
    expect(r.status).toBe(201);
    const e = await entry('entra.user@example.org');
    expect(e).toMatchObject({
      scimActive: 'TRUE',
      scimExternalId: 'e-100',
      employeeNumber: '100',
      givenName: 'Entra',
    });
  });

  it('PATCH with capitalised ops, "False" strings, path-less dotted and URN keys, trailing slash', async () => {
    const created = await t.request('POST', '/Users', { schemas: [USER], userName: 'entra.patch' });
    const r = await t.request('PATCH', `/Users/${created.body.id}/`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'active', value: 'False' },
        { op: 'Replace', value: { 'name.givenName': 'Pat', [`${ENTERPRISE}:employeeNumber`]: '42' } },
        { op: 'Add', path: 'emails[type eq "work"].value', value: 'pat@example.org' },
      ],
    });
    expect(r.status).toBe(200);
    expect(await entry('entra.patch')).toMatchObject({
      scimActive: 'FALSE',
      givenName: 'Pat',
      employeeNumber: '42',
      mail: 'pat@example.org',
    });
  });

  // Entra's own validator expects 204 after a user PATCH; Okta reads the 200 body. Per client.
  it('a client configured with patchResponse 204 gets 204 (200 when it asks for attributes); others 200', async () => {
    const created = await t.request('POST', '/Users', { schemas: [USER], userName: 'entra.204' });
    const path = `/Users/${created.body.id}`;
    const op = (value: string) => ({
      schemas: [PATCH],
      Operations: [{ op: 'Replace', path: 'title', value }],
    });
    const quiet = await t.request('PATCH', path, op('One'), asEntra);
    expect(quiet.status).toBe(204);
    expect(quiet.text).toBe('');
    expect(quiet.headers.get('etag')).toMatch(/^W\//);
    expect((await entry('entra.204'))?.title).toBe('One');
    const asked = await t.request('PATCH', `${path}?attributes=title`, op('Two'), asEntra);
    expect(asked.status).toBe(200);
    expect(asked.body.title).toBe('Two');
    const other = await t.request('PATCH', path, op('Three'));
    expect(other.status).toBe(200);
    expect(other.body.title).toBe('Three');
  });

  it('manager as a bare id and as [{"value": id}]', async () => {
    const boss = await t.request('POST', '/Users', { schemas: [USER], userName: 'boss' });
    const report = await t.request('POST', '/Users', { schemas: [USER], userName: 'report' });
    const bare = await t.request('PATCH', `/Users/${report.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Add', path: `${ENTERPRISE}:manager`, value: boss.body.id }],
    });
    expect(bare.status).toBe(200);
    expect(String((await entry('report'))?.manager).toLowerCase()).toBe(
      'uid=boss,ou=people,dc=example,dc=com',
    );
    const cleared = await t.request('PATCH', `/Users/${report.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Remove', path: `${ENTERPRISE}:manager` }],
    });
    expect(cleared.status).toBe(200);
    expect((await entry('report'))?.manager).toBeUndefined();
    const listed = await t.request('PATCH', `/Users/${report.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: `${ENTERPRISE}:manager`, value: [{ value: boss.body.id }] }],
    });
    expect(listed.status).toBe(200);
    expect(listed.body[ENTERPRISE].manager.value).toBe(boss.body.id);
  });

  it('filters with unquoted literals and the valuePath-dot form', async () => {
    await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'jyoung',
      externalId: 'jyoung',
      emails: [{ type: 'work', value: 'jy@example.org' }],
    });
    const unquoted = await t.request('GET', `/Users?filter=${encodeURIComponent('externalId eq jyoung')}`);
    expect(unquoted.body.totalResults).toBe(1);
    const dotted = await t.request(
      'GET',
      `/Users?filter=${encodeURIComponent('emails[type eq "work"].value eq "jy@example.org"')}`,
    );
    expect(dotted.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['jyoung']);
  });
});

describe('Okta', () => {
  it('deactivates with a path-less replace of active', async () => {
    const created = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'okta.user',
      active: true,
    });
    const r = await t.request('PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(r.status).toBe(200);
    expect(r.body.active).toBe(false);
    expect((await entry('okta.user'))?.scimActive).toBe('FALSE');
  });

  it('updates by PUT: attributes left out are removed, but a missing active does not disable', async () => {
    const created = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'okta.put',
      title: 'Engineer',
      active: true,
    });
    const r = await t.request('PUT', `/Users/${created.body.id}`, {
      schemas: [USER],
      id: created.body.id,
      userName: 'okta.put',
      displayName: 'Okta Put',
    });
    expect(r.status).toBe(200);
    const e = await entry('okta.put');
    expect(e?.title).toBeUndefined();
    expect(e?.scimActive).toBe('TRUE');
  });

  it('looks users up with startIndex=1&count=100 and a userName filter', async () => {
    await t.request('POST', '/Users', { schemas: [USER], userName: 'okta.lookup@example.org' });
    const r = await t.request(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "okta.lookup@example.org"')}&startIndex=1&count=100`,
    );
    expect(r.body).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
  });
});

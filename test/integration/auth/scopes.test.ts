/**
 * Scopes on every SCIM route (docs/architecture.md §Scopes), against the real stack: static tokens
 * with scopes and expiry, tokens issued into Redis, Bulk operations checked one by one, a token
 * list replaced without a restart. Each refusal is checked in the directory too: nothing changed.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/auth/tokens.ts';
import { loadConfig } from '../../../src/config/index.ts';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

const secret = () => randomBytes(18).toString('base64url');
const tokens = {
  reader: secret(),
  usersWriter: secret(),
  bulkUsers: secret(),
  bulkOnly: secret(),
  expired: secret(),
  later: secret(),
};
const entries = (list: Record<string, { token: string; scopes: string[]; expiresAt?: string }>) =>
  JSON.stringify(
    Object.entries(list).map(([name, t]) => ({
      name,
      sha256: sha256Hex(t.token),
      scopes: t.scopes,
      ...(t.expiresAt ? { expiresAt: t.expiresAt } : {}),
    })),
  );
const configured = {
  reader: { token: tokens.reader, scopes: ['users:read', 'groups:read'] },
  usersWriter: { token: tokens.usersWriter, scopes: ['users:write'] },
  bulkUsers: { token: tokens.bulkUsers, scopes: ['bulk', 'users:write'] },
  bulkOnly: { token: tokens.bulkOnly, scopes: ['bulk'] },
  expired: { token: tokens.expired, scopes: ['admin'], expiresAt: '2020-01-01T00:00:00Z' },
};

let t: TestBridge;
let ldap: Client;

beforeAll(async () => {
  t = await startTestBridge({ env: { SCIM_BRIDGE_AUTH_TOKENS: entries(configured) } });
  ldap = await rootClientOf(t);
});
afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
});

const as = (token: string, method: string, path: string, body?: unknown) =>
  t.request(method, path, body, { Authorization: `Bearer ${token}` });

async function ldapCount(base: string, filter: string): Promise<number> {
  const { searchEntries } = await ldap.search(base, { scope: 'sub', filter, attributes: ['dn'] });
  return searchEntries.length;
}

function expectInsufficientScope(r: { status: number; headers: Headers; body: any }, scope: string): void {
  expect(r.status).toBe(403);
  expect(r.headers.get('www-authenticate')).toBe(
    `Bearer realm="scim", error="insufficient_scope", scope="${scope}"`,
  );
  expect(r.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  expect(r.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '403' });
  expect(r.body.detail).toContain(scope);
}

describe('a read-only token', () => {
  it('reads users and groups, and discovery', async () => {
    for (const path of ['/Users', '/Groups', '/ServiceProviderConfig', '/Schemas', '/ResourceTypes', '/']) {
      expect((await as(tokens.reader, 'GET', path)).status, path).toBe(200);
    }
    expect((await as(tokens.reader, 'POST', '/Users/.search', { schemas: [] })).status).not.toBe(403);
  });

  it('cannot POST, PUT, PATCH or DELETE, and the directory is unchanged', async () => {
    const alice = (await as(tokens.reader, 'GET', '/Users?filter=userName eq "alice"')).body.Resources[0];
    expect(alice?.id).toBeDefined();
    const before = await ldapCount('dc=example,dc=com', '(objectClass=*)');
    expectInsufficientScope(
      await as(tokens.reader, 'POST', '/Users', { schemas: [USER], userName: 'scope-reader-made' }),
      'users:write',
    );
    expectInsufficientScope(
      await as(tokens.reader, 'PATCH', `/Users/${alice.id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'displayName', value: 'changed by a reader' }],
      }),
      'users:write',
    );
    expectInsufficientScope(
      await as(tokens.reader, 'PUT', `/Users/${alice.id}`, { ...alice }),
      'users:write',
    );
    expectInsufficientScope(await as(tokens.reader, 'DELETE', `/Users/${alice.id}`), 'users:write');
    expect(await ldapCount('dc=example,dc=com', '(objectClass=*)')).toBe(before);
    expect(await ldapCount('dc=example,dc=com', '(displayName=changed by a reader)')).toBe(0);
  });

  it('cannot use /Bulk', async () => {
    expectInsufficientScope(
      await as(tokens.reader, 'POST', '/Bulk', { schemas: [BULK], Operations: [] }),
      'bulk',
    );
  });
});

describe('a users:write token', () => {
  it('creates and deletes users', async () => {
    const made = await as(tokens.usersWriter, 'POST', '/Users', {
      schemas: [USER],
      userName: 'scope-writer-1',
    });
    expect(made.status).toBe(201);
    expect((await as(tokens.usersWriter, 'GET', `/Users/${made.body.id}`)).status).toBe(200);
    expect((await as(tokens.usersWriter, 'DELETE', `/Users/${made.body.id}`)).status).toBe(204);
  });

  it('cannot touch /Groups, nor search across every type', async () => {
    expectInsufficientScope(await as(tokens.usersWriter, 'GET', '/Groups'), 'groups:read');
    expectInsufficientScope(
      await as(tokens.usersWriter, 'POST', '/Groups', { schemas: [GROUP], displayName: 'scope-group' }),
      'groups:write',
    );
    expectInsufficientScope(await as(tokens.usersWriter, 'POST', '/.search', { schemas: [] }), 'groups:read');
    expect(await ldapCount('dc=example,dc=com', '(cn=scope-group)')).toBe(0);
  });
});

describe('Bulk', () => {
  it('checks every operation: the ones outside the scopes get 403 in their result, the others run', async () => {
    const r = await as(tokens.bulkUsers, 'POST', '/Bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'u', data: { schemas: [USER], userName: 'scope-bulk-1' } },
        {
          method: 'POST',
          path: '/Groups',
          bulkId: 'g',
          data: { schemas: [GROUP], displayName: 'scope-bulk-group' },
        },
        { method: 'DELETE', path: '/Users/bulkId:u' },
      ],
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.Operations.map((o: { status: string }) => o.status)).toEqual(['201', '403', '204']);
    expect(r.body.Operations[1].response).toMatchObject({ status: '403' });
    expect(r.body.Operations[1].response.detail).toContain('groups:write');
    expect(await ldapCount('dc=example,dc=com', '(cn=scope-bulk-group)')).toBe(0);
    expect(await ldapCount('dc=example,dc=com', '(uid=scope-bulk-1)')).toBe(0);
  });

  it('a token with only `bulk` can run no operation at all', async () => {
    const r = await as(tokens.bulkOnly, 'POST', '/Bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'u', data: { schemas: [USER], userName: 'scope-bulk-2' } },
      ],
    });
    expect(r.body.Operations.map((o: { status: string }) => o.status)).toEqual(['403']);
    expect(await ldapCount('dc=example,dc=com', '(uid=scope-bulk-2)')).toBe(0);
  });
});

describe('static token lifecycle', () => {
  it('refuses a token past its expiresAt like an unknown one', async () => {
    const r = await as(tokens.expired, 'GET', '/Users');
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('adds and revokes tokens without a restart (the SIGHUP path), keeping the list on a bad reload', async () => {
    expect((await as(tokens.later, 'GET', '/Users')).status).toBe(401);
    const { reader, ...withoutReader } = configured;
    const next = entries({ ...withoutReader, later: { token: tokens.later, scopes: ['users:read'] } });
    t.bridge.reloadTokens(loadConfig({ env: { SCIM_BRIDGE_AUTH_TOKENS: next } }));
    expect((await as(tokens.later, 'GET', '/Users')).status).toBe(200);
    expect((await as(tokens.reader, 'GET', '/Users')).status).toBe(401);
    const unknownScope = entries({ later: { token: tokens.later, scopes: ['printers:read'] } });
    expect(() =>
      t.bridge.reloadTokens(loadConfig({ env: { SCIM_BRIDGE_AUTH_TOKENS: unknownScope } })),
    ).toThrow(/printers:read/);
    expect((await as(tokens.later, 'GET', '/Users')).status).toBe(200);
    // Put the original list back for the tests after this one.
    t.bridge.reloadTokens(
      loadConfig({ env: { SCIM_BRIDGE_AUTH_TOKENS: entries(configured), SCIM_BRIDGE_TOKEN: t.token } }),
    );
  });
});

describe('issued tokens (Redis)', () => {
  it('carry their scopes on every request and stop working once revoked', async () => {
    const issued = await t.bridge.auth.issued.issue(
      { name: 'someone@idp', issuer: 'https://idp/' },
      ['users:read'],
      60,
    );
    expect((await as(issued.token, 'GET', '/Users')).status).toBe(200);
    expectInsufficientScope(
      await as(issued.token, 'POST', '/Users', { schemas: [USER], userName: 'scope-issued' }),
      'users:write',
    );
    expect(await t.bridge.auth.issued.revoke({ id: issued.id })).toBe(true);
    expect((await as(issued.token, 'GET', '/Users')).status).toBe(401);
  });

  it('a token of the issued shape that was never issued is a 401', async () => {
    expect((await as(randomBytes(32).toString('base64url'), 'GET', '/Users')).status).toBe(401);
  });
});

/**
 * Hostile input, class "authentication" (issue 15: held; kept so it stays held): every SCIM
 * endpoint, every method, answers 401 with a Bearer challenge (RFC 7644 §2; RFC 6750 §3) to a
 * missing, malformed or wrong token, and executes nothing.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { BULK_REQUEST, expectScimError, idOf, PATCH_OP, raw, snapshot, USER } from './helpers.ts';

let t: TestBridge;
let ldap: Client;

beforeAll(async () => {
  t = await startTestBridge();
  ldap = await rootClientOf(t);
});
afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
});

/** Authorization values that must not pass; undefined: no header at all. */
function badCredentials(token: string): (string | undefined)[] {
  return [
    undefined,
    '',
    'Bearer',
    'Bearer ',
    `Bearer ${token}x`,
    `Bearer ${token.slice(0, -1)}`,
    `Bearer ${token.toUpperCase()}`,
    `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`,
    `Token ${token}`,
    `Bearer ${token} ${token}`,
    `Bearer ${'A'.repeat(8_000)}`,
  ];
}

describe('hostile input: authentication', () => {
  it('every SCIM endpoint refuses a missing or wrong token with 401 and a Bearer challenge, and changes nothing', async () => {
    const id = await idOf(t, 'alice');
    const before = await snapshot(ldap);
    const requests: [string, string, unknown][] = [
      ['GET', '/Users', undefined],
      ['GET', `/Users/${id}`, undefined],
      ['POST', '/Users', { schemas: [USER], userName: 'auth.intruder' }],
      ['PUT', `/Users/${id}`, { schemas: [USER], userName: 'alice', title: 'Owned' }],
      [
        'PATCH',
        `/Users/${id}`,
        { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Owned' }] },
      ],
      ['DELETE', `/Users/${id}`, undefined],
      ['POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] }],
      ['POST', '/Bulk', { schemas: [BULK_REQUEST], Operations: [] }],
      ['GET', '/Groups', undefined],
    ];
    for (const credential of badCredentials(t.token)) {
      for (const [method, path, body] of requests) {
        const r = await raw(undefined, t.baseUrl, {
          method,
          path,
          headers: credential === undefined ? {} : { Authorization: credential },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const where = `${method} ${path} with ${credential?.slice(0, 20)}: ${r.status} ${r.text.slice(0, 200)}`;
        expect(r.status, where).toBe(401);
        expect(String(r.headers['www-authenticate']), where).toMatch(/^Bearer/);
      }
    }
    expect(await snapshot(ldap)).toEqual(before);
  });

  it('a token in the query string is not a credential', async () => {
    const r = await raw(undefined, t.baseUrl, { method: 'GET', path: `/Users?access_token=${t.token}` });
    expect(r.status).toBe(401);
  });

  it('the right token still works (the refusals are not blanket)', async () => {
    expect((await t.request('GET', '/Users?count=1')).status).toBe(200);
    expectScimError(await t.request('GET', '/Users', undefined, { Authorization: 'Bearer nope' }), 401);
  });
});

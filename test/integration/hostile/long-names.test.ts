/**
 * Hostile input, class "long names" (issue 15, Medium): a name longer than the directory accepts
 * is the client's error — 400 `invalidValue` (RFC 7644 §3.12) saying what the limit is — never
 * `503 Retry-After` "the directory is unavailable", which tells the client to retry forever.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, type ScimResponse, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { expectScimError, GROUP, PATCH_OP, said, snapshot, USER } from './helpers.ts';

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

function expectTooLong(r: ScimResponse): void {
  expect(r.status, said(r)).not.toBe(503);
  expect(r.headers.get('retry-after'), said(r)).toBeNull();
  const body = expectScimError(r, 400, 'invalidValue');
  expect(body.detail, said(r)).not.toMatch(/unavailable/i);
}

describe('hostile input: names longer than the directory takes', () => {
  it('a userName of 64 characters is created (ordinary long names stay accepted)', async () => {
    const r = await t.request('POST', '/Users', { schemas: [USER], userName: 'n'.repeat(64) });
    expect(r.status, said(r)).toBe(201);
  });

  // 245 bytes is OpenLDAP back-mdb's limit on an RDN (ldap/root-dse.ts): 242 characters of uid.
  it('a userName at the limit (241 characters: uid= plus 241 bytes) is created', async () => {
    const r = await t.request('POST', '/Users', { schemas: [USER], userName: 'l'.repeat(241) });
    expect(r.status, said(r)).toBe(201);
  });

  it('a userName one byte over the limit names the attribute and the limit', async () => {
    const r = await t.request('POST', '/Users', { schemas: [USER], userName: 'o'.repeat(242) });
    expectTooLong(r);
    expect(r.body.detail).toMatch(/userName.*at most 241 bytes/);
  });

  it('the limit counts UTF-8 bytes: 121 two-byte characters fit, 122 do not', async () => {
    const fits = await t.request('POST', '/Users', { schemas: [USER], userName: 'é'.repeat(120) });
    expect(fits.status, said(fits)).toBe(201);
    expectTooLong(await t.request('POST', '/Users', { schemas: [USER], userName: 'ü'.repeat(121) }));
  });

  for (const length of [300, 8_900]) {
    const test = it;
    test(`a userName of ${length} characters is 400 invalidValue, not 503, and creates nothing`, async () => {
      const before = await snapshot(ldap);
      const r = await t.request('POST', '/Users', { schemas: [USER], userName: 'u'.repeat(length) });
      expectTooLong(r);
      expect(await snapshot(ldap)).toEqual(before);
    });

    test(`a Group displayName of ${length} characters is 400 invalidValue, not 503, and creates nothing`, async () => {
      const before = await snapshot(ldap);
      const r = await t.request('POST', '/Groups', { schemas: [GROUP], displayName: 'g'.repeat(length) });
      expectTooLong(r);
      expect(await snapshot(ldap)).toEqual(before);
    });
  }

  it('a rename by PATCH to a 300-character userName is 400 invalidValue, not 503', async () => {
    const created = await t.request('POST', '/Users', { schemas: [USER], userName: 'long.rename' });
    expect(created.status).toBe(201);
    const before = await snapshot(ldap);
    const r = await t.request('PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'userName', value: 'r'.repeat(300) }],
    });
    expectTooLong(r);
    expect(await snapshot(ldap)).toEqual(before);
  });

  it('a User displayName of 8,900 characters (cn, not in the DN) is stored or refused with 400, never 5xx', async () => {
    const r = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'long.display',
      displayName: 'd'.repeat(8_900),
    });
    expect(r.status, said(r)).toBeLessThan(500);
    if (r.status !== 201) expectTooLong(r);
  });
});

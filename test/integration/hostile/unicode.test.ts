/**
 * Hostile input, class "Unicode" (issue 15, Low): what cannot round-trip is refused with 400,
 * never stored altered. Invalid UTF-8 is not JSON text (RFC 8259 §8.1) → 400 `invalidSyntax`; a lone
 * surrogate is no Unicode scalar value → 400; NUL, CR/LF and zero-width characters in a name (a
 * DN's RDN: `ali\u200bce` beside `alice`) → 400 `invalidValue`. Uniqueness across case and
 * Unicode normalisation forms already holds and stays held.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, type ScimResponse, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { expectScimError, GROUP, raw, said, snapshot, USER } from './helpers.ts';

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

function expectRefused(r: ScimResponse | { status: number; text: string }, scimTypes: string[]): void {
  expect(r.status, said(r)).toBe(400);
  const body = JSON.parse(r.text) as { scimType?: string };
  expect(scimTypes, said(r)).toContain(body.scimType);
}

describe('hostile input: Unicode that cannot round-trip', () => {
  // issue 15: unicode — was, before the fix: 201, userName stored with U+FFFD in place of the bad bytes
  it('invalid UTF-8 in a body is 400 invalidSyntax, not stored as U+FFFD', async () => {
    const before = await snapshot(ldap);
    const prefix = Buffer.from(`{"schemas":["${USER}"],"userName":"bad`);
    const body = Buffer.concat([prefix, Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('utf8"}')]);
    const r = await raw(t, t.baseUrl, { method: 'POST', path: '/Users', body });
    expectRefused(r, ['invalidSyntax']);
    expect(await snapshot(ldap)).toEqual(before);
  });

  for (const [name, escaped] of [
    ['a lone high surrogate', '\\ud800'],
    ['a lone low surrogate', '\\udc00'],
  ] as const) {
    // issue 15: unicode — was, before the fix: 201, the surrogate stored as U+FFFD
    it(`${name} in a userName is 400, not stored as U+FFFD`, async () => {
      const before = await snapshot(ldap);
      const userName = `sur${escaped}rogate${escaped.slice(-2)}`;
      const r = await t.request('POST', '/Users', `{"schemas":["${USER}"],"userName":"${userName}"}`);
      expectRefused(r, ['invalidSyntax', 'invalidValue']);
      expect(await snapshot(ldap)).toEqual(before);
    });
  }

  for (const [name, character] of [
    ['NUL', '\u0000'],
    ['CR LF', '\r\n'],
    ['a zero-width space', '\u200b'],
    ['a zero-width joiner', '\u200d'],
    ['a byte-order mark', '\ufeff'],
  ] as const) {
    // issue 15: unicode — was, before the fix: 201, the character stored in the name and the DN
    it(`${name} in a userName is 400 invalidValue (no "alice" look-alike)`, async () => {
      const before = await snapshot(ldap);
      const r = await t.request('POST', '/Users', { schemas: [USER], userName: `ali${character}ce` });
      expectRefused(r, ['invalidValue']);
      expect(await snapshot(ldap)).toEqual(before);
    });

    // issue 15: unicode — was, before the fix: 201, the character stored in the name and the DN
    it(`${name} in a Group displayName (its RDN) is 400 invalidValue`, async () => {
      const before = await snapshot(ldap);
      const r = await t.request('POST', '/Groups', {
        schemas: [GROUP],
        displayName: `engi${character}neering`,
      });
      expectRefused(r, ['invalidValue']);
      expect(await snapshot(ldap)).toEqual(before);
    });
  }

  for (const [name, character] of [
    ['a zero-width space', '\u200b'],
    ['a NUL', '\u0000'],
  ] as const) {
    it(`a rename by PATCH or PUT to a name with ${name} is 400 invalidValue naming userName`, async () => {
      const created = await t.request('POST', '/Users', {
        schemas: [USER],
        userName: `renamed.${name.length}`,
      });
      expect(created.status, said(created)).toBe(201);
      const before = await snapshot(ldap);
      const patch = await t.request('PATCH', `/Users/${created.body.id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'userName', value: `ali${character}ce` }],
      });
      expect(expectScimError(patch, 400, 'invalidValue').detail).toContain('userName');
      const put = await t.request('PUT', `/Users/${created.body.id}`, {
        schemas: [USER],
        userName: `ali${character}ce`,
      });
      expect(expectScimError(put, 400, 'invalidValue').detail).toContain('userName');
      expect(await snapshot(ldap)).toEqual(before);
    });
  }

  it('a userName that differs from an existing one only in case is 409 uniqueness', async () => {
    const r = await t.request('POST', '/Users', { schemas: [USER], userName: 'ALICE' });
    expectScimError(r, 409, 'uniqueness');
  });

  it('a userName that differs from an existing one only in normalisation form is 409 uniqueness', async () => {
    const composed = await t.request('POST', '/Users', { schemas: [USER], userName: 'jos\u00e9' });
    expect(composed.status, said(composed)).toBe(201);
    const decomposed = await t.request('POST', '/Users', { schemas: [USER], userName: 'jose\u0301' });
    expectScimError(decomposed, 409, 'uniqueness');
  });

  it('non-ASCII names that round-trip are stored as sent', async () => {
    const userName = 'zoë.łukasz.日本';
    const r = await t.request('POST', '/Users', { schemas: [USER], userName });
    expect(r.status, said(r)).toBe(201);
    const read = await t.request('GET', `/Users/${r.body.id}`);
    expect(read.body.userName).toBe(userName);
  });
});

/**
 * Hostile input, class "error details" (issue 15, Low): an error detail (RFC 7644 §3.12) tells the
 * client what was wrong with its request in SCIM terms — attribute names, ids, values it sent —
 * never the directory's internals: no DN, no base, no LDAP result text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScimResponse, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { expectScimError, GROUP, idOf, PATCH_OP, USER } from './helpers.ts';

let t: TestBridge;

beforeAll(async () => {
  t = await startTestBridge();
});
afterAll(async () => {
  await t?.stop();
});

/** DN syntax and the suffix: what a detail must not show. */
const INTERNALS = /\b(dc|ou|uid|cn)=|example,dc|LDAP result|ldap:\/\//i;

function expectCleanDetail(r: ScimResponse, status: number, scimType?: string): void {
  const body = expectScimError(r, status, scimType);
  expect(body.detail ?? '', `the detail shows directory internals: ${body.detail}`).not.toMatch(INTERNALS);
}

describe('hostile input: what an error detail shows', () => {
  it('404 for an unknown id', async () => {
    expectCleanDetail(await t.request('GET', '/Users/00000000-0000-4000-8000-000000000000'), 404);
  });

  it('409 for a duplicate userName', async () => {
    expectCleanDetail(
      await t.request('POST', '/Users', { schemas: [USER], userName: 'alice' }),
      409,
      'uniqueness',
    );
  });

  it('409 for a duplicate group displayName', async () => {
    expectCleanDetail(
      await t.request('POST', '/Groups', { schemas: [GROUP], displayName: 'engineering' }),
      409,
      'uniqueness',
    );
  });

  it('409 for a rename onto an existing userName', async () => {
    const id = await idOf(t, 'bob');
    const r = await t.request('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'userName', value: 'carol' }],
    });
    expectCleanDetail(r, 409, 'uniqueness');
  });

  it('400 for an unknown member id', async () => {
    const r = await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'details.members',
      members: [{ value: '00000000-0000-4000-8000-000000000001' }],
    });
    expectCleanDetail(r, 400);
  });

  it('400 for an invalid value in a directory-checked attribute', async () => {
    const r = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'details.bad',
      active: 'maybe',
    });
    expectCleanDetail(r, 400, 'invalidValue');
  });

  it('400 for a value the directory syntax refuses (mail is IA5String: no ü)', async () => {
    const id = await idOf(t, 'dave');
    const r = await t.request('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'emails', value: [{ value: 'jürgen@x.example', type: 'work' }] }],
    });
    expectCleanDetail(r, 400, 'invalidValue');
  });

  it('400 for a telephone number the directory syntax refuses', async () => {
    const r = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'details.phone',
      phoneNumbers: [{ value: '@@@ !!!', type: 'work' }],
    });
    expectCleanDetail(r, 400, 'invalidValue');
  });

  it('400 for a filter on an unknown attribute', async () => {
    expectCleanDetail(
      await t.request('GET', `/Users?filter=${encodeURIComponent('nosuch eq "x"')}`),
      400,
      'invalidFilter',
    );
  });
});

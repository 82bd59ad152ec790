/**
 * Hostile input, class "filters on never-returned attributes" (issue 15, Low): no filter may test
 * an attribute that is `returned: never` (RFC 7643 §7: password), not even for presence, or the
 * filter answers what the resource never shows ("which users have a password"). The answer is
 * 400 `invalidFilter` (RFC 7644 §3.4.2.2, §3.12), whatever the operator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { expectScimError, idOf, PATCH_OP, said } from './helpers.ts';

let t: TestBridge;

beforeAll(async () => {
  t = await startTestBridge();
  // bob has a password, the other sample users none: a leaking filter would single him out.
  const id = await idOf(t, 'bob');
  const r = await t.request('PATCH', `/Users/${id}`, {
    schemas: [PATCH_OP],
    Operations: [{ op: 'replace', path: 'password', value: 'Bobs-Passw0rd!' }],
  });
  if (r.status >= 300) throw new Error(`setting bob's password: ${r.status} ${r.text}`);
});
afterAll(async () => {
  await t?.stop();
});

const search = (filter: string) => t.request('GET', `/Users?filter=${encodeURIComponent(filter)}`);

describe('hostile input: filters on returned:never attributes', () => {
  for (const filter of [
    'password eq "Bobs-Passw0rd!"',
    'password sw "B"',
    'password gt "a"',
    'password eq null',
  ]) {
    it(`${filter} is 400 invalidFilter`, async () => {
      expectScimError(await search(filter), 400, 'invalidFilter');
    });
  }

  for (const filter of ['password pr', 'not (password pr)', 'userName pr and password pr', 'PASSWORD pr']) {
    // issue 15: filters on never attributes — was 200, a list that singles out the users with a
    // password (pr was handled before the returned:never check)
    it(`${filter} is 400 invalidFilter, not a list of who has a password`, async () => {
      const r = await search(filter);
      expect(r.status, said(r)).not.toBe(200);
      expectScimError(r, 400, 'invalidFilter');
    });
  }

  // issue 15: filters on never attributes — was 200, the list of users who have a password
  it('password pr in a POST /.search body is 400 invalidFilter', async () => {
    const r = await t.request('POST', '/Users/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      filter: 'password pr',
    });
    expect(r.status, said(r)).not.toBe(200);
    expectScimError(r, 400, 'invalidFilter');
  });
});

/**
 * Hostile input, class "deep JSON" (issue 15, Medium): a few KB of nested brackets must not
 * overflow a stack anywhere (JSON parse, the idempotency fingerprint, Bulk's bulkId walk). Nesting
 * is bounded at parse time with 400 `invalidSyntax` (RFC 7644 §3.12: "the request body message
 * structure was invalid"), and a refused Bulk request commits none of its operations.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import {
  BULK_REQUEST,
  expectScimError,
  GROUP,
  idOf,
  PATCH_OP,
  said,
  snapshot,
  USER,
  uidExists,
} from './helpers.ts';

/** Past the ~2,300 levels that overflowed the stack in the issue; still under 10 KB of body. */
const DEPTH = 5_000;

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

/** JSON text of `depth` nested arrays around `inner` (text: built as a string, never as a value). */
function nestedArrays(depth: number, inner = '"x"'): string {
  return `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
}
/** JSON text of `depth` nested objects `{"a":{"a":...}}`. */
function nestedObjects(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

function userWith(value: string, userName: string): string {
  return `{"schemas":["${USER}"],"userName":"${userName}","title":${value}}`;
}

describe('hostile input: deeply nested JSON', () => {
  it('ordinary nesting (an extension object, a multi-valued complex attribute) is accepted', async () => {
    const r = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'deep.ordinary',
      emails: [{ value: 'o@x.example', type: 'work' }],
    });
    expect(r.status).toBe(201);
  });

  // issue 15: deep JSON — was, before the fix: nesting is not bounded at parse time: 400 invalidValue ("title must be a single value") after walking it
  it('a POST nested 5,000 levels deep is 400 invalidSyntax and creates nothing', async () => {
    for (const [i, value] of [nestedArrays(DEPTH), nestedObjects(DEPTH)].entries()) {
      const r = await t.request('POST', '/Users', userWith(value, `deep.plain${i}`));
      expectScimError(r, 400, 'invalidSyntax');
      expect(await uidExists(ldap, `deep.plain${i}`)).toBe(false);
    }
  });

  // issue 15: deep JSON — was, before the fix: 500 (stack overflow in the idempotency fingerprint)
  it('a keyed POST nested 5,000 levels deep is 400 invalidSyntax, not 500 (idempotency fingerprint)', async () => {
    for (const [i, value] of [nestedArrays(DEPTH), nestedObjects(DEPTH)].entries()) {
      const r = await t.request('POST', '/Users', userWith(value, `deep.keyed${i}`), {
        'Idempotency-Key': `deep-keyed-${i}`,
      });
      expect(r.status, said(r)).not.toBe(500);
      expectScimError(r, 400, 'invalidSyntax');
      expect(await uidExists(ldap, `deep.keyed${i}`)).toBe(false);
    }
  });

  // issue 15: deep JSON — was, before the fix: not bounded at parse time: 400 invalidValue after walking it
  it('a PATCH whose value is nested 5,000 levels deep is 400 invalidSyntax and changes nothing', async () => {
    const id = await idOf(t, 'bob');
    const before = await snapshot(ldap);
    const body = `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","path":"title","value":${nestedArrays(DEPTH)}}]}`;
    const r = await t.request('PATCH', `/Users/${id}`, body);
    expectScimError(r, 400, 'invalidSyntax');
    expect(await snapshot(ldap)).toEqual(before);
  });

  // issue 15: deep JSON — was, before the fix: 500 (stack overflow in resolveBulkIds)
  it('a Bulk request with one deep operation is 400 invalidSyntax and commits none of its operations', async () => {
    const before = await snapshot(ldap);
    const first = JSON.stringify({
      method: 'POST',
      path: '/Users',
      bulkId: 'b1',
      data: { schemas: [USER], userName: 'deep.bulk.before' },
    });
    const deep = `{"method":"POST","path":"/Groups","bulkId":"b2","data":{"schemas":["${GROUP}"],"displayName":"deep.bulk","members":[{"value":"bulkId:b1","x":${nestedArrays(DEPTH)}}]}}`;
    const r = await t.request(
      'POST',
      '/Bulk',
      `{"schemas":["${BULK_REQUEST}"],"Operations":[${first},${deep}]}`,
    );
    expect(r.status, said(r)).not.toBe(500);
    expectScimError(r, 400, 'invalidSyntax');
    expect(await snapshot(ldap)).toEqual(before);
  });

  it('a filter nested 2,000 parentheses deep is 400 invalidFilter, not 500', async () => {
    const filter = `${'('.repeat(2_000)}userName eq "alice"${')'.repeat(2_000)}`;
    const r = await t.request('GET', `/Users?filter=${encodeURIComponent(filter)}`);
    expect(r.status, said(r)).not.toBe(500);
    expectScimError(r, 400, 'invalidFilter');
  });
});

import { describe, expect, it } from 'vitest';
import type { ActivityRecord } from '../../../src/admin/activity.ts';
import { ldapResultCodeOf } from '../../../src/admin/activity.ts';
import { filterOf, matches } from '../../../src/admin/overview.ts';

const record = (over: Partial<ActivityRecord>): ActivityRecord => ({
  at: '2026-01-01T00:00:00.000Z',
  client: 'okta',
  method: 'POST',
  resourceType: 'Users',
  status: 201,
  requestId: 'r',
  ...over,
});

describe('the overview activity filter', () => {
  it.each<[string, { outcome: string; client: string; resourceType: string }]>([
    ['', { outcome: 'all', client: '', resourceType: '' }],
    ['outcome=failed&client=okta&type=Users', { outcome: 'failed', client: 'okta', resourceType: 'Users' }],
    ['outcome=ok', { outcome: 'ok', client: '', resourceType: '' }],
    ['outcome=<script>', { outcome: 'all', client: '', resourceType: '' }],
    ['client=%20okta%20', { outcome: 'all', client: 'okta', resourceType: '' }],
    [`client=${'x'.repeat(500)}`, { outcome: 'all', client: 'x'.repeat(200), resourceType: '' }],
  ])('reads %j', (query, expected) => {
    expect(filterOf(new URLSearchParams(query))).toEqual(expected);
  });

  it.each<[Partial<ActivityRecord>, string, boolean]>([
    [{ status: 409 }, 'outcome=failed', true],
    [{ status: 201 }, 'outcome=failed', false],
    [{ status: 204 }, 'outcome=ok', true],
    [{ status: 500 }, 'outcome=ok', false],
    [{ client: 'azure' }, 'client=okta', false],
    [{ client: 'okta' }, 'client=okta', true],
    [{ resourceType: 'Groups' }, 'type=users', false],
    [{ resourceType: 'Users' }, 'type=users', true],
  ])('%j with %s → %s', (over, query, expected) => {
    expect(matches(record(over), filterOf(new URLSearchParams(query)))).toBe(expected);
  });
});

describe('ldapResultCodeOf', () => {
  const ldap = Object.assign(new Error('constraint'), { code: 19 });
  it.each<[string, unknown, number | undefined]>([
    ['no error', undefined, undefined],
    ['a plain error', new Error('x'), undefined],
    ['the code on the error', ldap, 19],
    ['the code two causes down', new Error('scim', { cause: new Error('port', { cause: ldap }) }), 19],
    [
      'a string code (errno) is no LDAP result',
      Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
      undefined,
    ],
    ['not an error', { code: 19 }, undefined],
  ])('%s', (_name, error, expected) => {
    expect(ldapResultCodeOf(error)).toBe(expected);
  });
});

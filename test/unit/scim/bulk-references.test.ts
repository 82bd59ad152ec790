import { describe, expect, it } from 'vitest';
import {
  bulkIdResolver,
  type ReferenceAttribute,
  resolveBulkReferences,
} from '../../../src/scim/bulk-request.ts';
import { ScimError } from '../../../src/scim/errors.ts';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const refs: ReferenceAttribute[] = [
  { schema: GROUP, core: true, attribute: 'members', subAttribute: 'value' },
  { schema: ENTERPRISE, core: false, attribute: 'manager', subAttribute: 'value' },
];
const resolve = bulkIdResolver(new Map([['u1', 'id-1']]), new Set(['u1', 'later']));
const run = (method: 'POST' | 'PATCH', data: unknown) =>
  resolveBulkReferences(method, data, refs, resolve, 'data');

describe('resolveBulkReferences: only attributes that hold references (RFC 7644 §3.7.2)', () => {
  const cases: [string, 'POST' | 'PATCH', unknown, unknown][] = [
    [
      'members.value resolved',
      'POST',
      { displayName: 'g', members: [{ value: 'bulkId:u1' }] },
      { displayName: 'g', members: [{ value: 'id-1' }] },
    ],
    [
      'attribute names case-insensitive',
      'POST',
      { MEMBERS: [{ VALUE: 'bulkId:u1' }] },
      { MEMBERS: [{ VALUE: 'id-1' }] },
    ],
    [
      'a userName, title or display that reads bulkId: stays',
      'POST',
      { schemas: [USER], userName: 'bulkId:u1', title: 'bulkId:u1', members: [{ display: 'bulkId:u1' }] },
      { schemas: [USER], userName: 'bulkId:u1', title: 'bulkId:u1', members: [{ display: 'bulkId:u1' }] },
    ],
    [
      'the enterprise manager inside its extension',
      'POST',
      { [ENTERPRISE]: { manager: { value: 'bulkId:u1' }, department: 'bulkId:u1' } },
      { [ENTERPRISE]: { manager: { value: 'id-1' }, department: 'bulkId:u1' } },
    ],
    [
      'a manager at the top level is not the extension’s',
      'POST',
      { manager: { value: 'bulkId:u1' } },
      { manager: { value: 'bulkId:u1' } },
    ],
    [
      'PATCH add members',
      'PATCH',
      { Operations: [{ op: 'add', path: 'members', value: [{ value: 'bulkId:u1' }] }] },
      { Operations: [{ op: 'add', path: 'members', value: [{ value: 'id-1' }] }] },
    ],
    [
      'PATCH with the full manager path',
      'PATCH',
      { Operations: [{ op: 'replace', path: `${ENTERPRISE}:manager.value`, value: 'bulkId:u1' }] },
      { Operations: [{ op: 'replace', path: `${ENTERPRISE}:manager.value`, value: 'id-1' }] },
    ],
    [
      'PATCH without a path: the value is read as a resource',
      'PATCH',
      { Operations: [{ op: 'add', value: { members: [{ value: 'bulkId:u1' }], displayName: 'bulkId:u1' } }] },
      { Operations: [{ op: 'add', value: { members: [{ value: 'id-1' }], displayName: 'bulkId:u1' } }] },
    ],
    [
      'PATCH of another attribute stays',
      'PATCH',
      { Operations: [{ op: 'replace', path: 'displayName', value: 'bulkId:u1' }] },
      { Operations: [{ op: 'replace', path: 'displayName', value: 'bulkId:u1' }] },
    ],
    ['malformed data is passed on untouched', 'POST', [1, 2], [1, 2]],
    ['malformed Operations untouched', 'PATCH', { Operations: 'x' }, { Operations: 'x' }],
  ];
  it.each(cases)('%s', (_label, method, data, expected) => {
    expect(run(method, data)).toEqual(expected);
  });

  const refusals: [string, unknown, number][] = [
    [
      'a bulkId declared but not created yet: 409 (RFC 7644 §3.7.3)',
      { members: [{ value: 'bulkId:later' }] },
      409,
    ],
    ['a bulkId no operation declares: 400', { members: [{ value: 'bulkId:nowhere' }] }, 400],
  ];
  it.each(refusals)('%s', (_label, data, status) => {
    let thrown: unknown;
    try {
      run('POST', data);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ScimError);
    expect((thrown as ScimError).status).toBe(status);
  });
});

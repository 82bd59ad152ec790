import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REMOVED, secretAttributeNames, withoutSecrets } from '../../../src/admin/recorded-requests.ts';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { compileMappingTexts, loadMappingDirectory } from '../../../src/mapping/load.ts';

const SECRETS = new Set(['password', 'pin']);

describe('withoutSecrets', () => {
  it.each<[string, unknown, unknown]>([
    ['a top-level password', { userName: 'a', password: 'x' }, { userName: 'a' }],
    ['any case (RFC 7643 §2.1)', { PassWord: 'x', userName: 'a' }, { userName: 'a' }],
    ['inside an extension', { 'urn:x:ext': { pin: '1', a: 1 } }, { 'urn:x:ext': { a: 1 } }],
    [
      'a PATCH path naming the secret',
      { Operations: [{ op: 'replace', path: 'password', value: 'x' }] },
      { Operations: [{ op: 'replace', path: 'password', value: REMOVED }] },
    ],
    [
      'a PATCH path with a URN and a filter',
      {
        Operations: [
          { op: 'add', path: 'urn:x:ext:pin', value: '1' },
          { op: 'add', path: 'emails[type eq "w"].value', value: 'e' },
        ],
      },
      {
        Operations: [
          { op: 'add', path: 'urn:x:ext:pin', value: REMOVED },
          { op: 'add', path: 'emails[type eq "w"].value', value: 'e' },
        ],
      },
    ],
    [
      'a PATCH value object holding the secret',
      { Operations: [{ op: 'replace', value: { password: 'x', title: 't' } }] },
      { Operations: [{ op: 'replace', value: { title: 't' } }] },
    ],
    [
      'a Bulk operation data',
      { Operations: [{ method: 'POST', data: { password: 'x' } }] },
      { Operations: [{ method: 'POST', data: {} }] },
    ],
    ['not an object', 'password', 'password'],
    ['null', null, null],
    ['an array of scalars', [1, 'password'], [1, 'password']],
    ['a path that is not text', { path: 7, value: 'x' }, { path: 7, value: 'x' }],
  ])('%s', (_, input, expected) => {
    expect(withoutSecrets(input, SECRETS)).toEqual(expected);
  });
});

describe('secretAttributeNames', () => {
  it('names password and not the readable attributes of the shipped mapping', () => {
    const names = secretAttributeNames(loadMappingDirectory('mappings/openldap', STANDARD_SCHEMAS));
    expect(names.has('password')).toBe(true);
    expect(names.has('username')).toBe(false);
    expect(names.has('title')).toBe(false);
  });

  it('names an attribute the mapping marks returned never, and one it marks writeOnly', () => {
    const text = readFileSync('mappings/openldap/users.yaml', 'utf8')
      .replace('title: { ldap: title,', 'title: { ldap: title, returned: never,')
      .replace(
        "employeeNumber': { ldap: employeeNumber,",
        "employeeNumber': { ldap: employeeNumber, mutability: writeOnly,",
      );
    const groups = { file: 'groups.yaml', text: readFileSync('mappings/openldap/groups.yaml', 'utf8') };
    const set = compileMappingTexts([groups, { file: 'users.yaml', text }], STANDARD_SCHEMAS, '.');
    const names = secretAttributeNames(set);
    expect(names.has('title')).toBe(true);
    expect(names.has('employeenumber')).toBe(true);
    expect(names.has('displayname')).toBe(false);
  });
});

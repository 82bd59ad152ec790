/**
 * Values the bridge fills in that no client sent (mapping/fallbacks.ts), through the OpenLDAP
 * preset: cn and sn computed from userName, the work email's primary flag. Written with a marker
 * token in scimFallback; not read back; not matched by filters.
 */
import { describe, expect, it } from 'vitest';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { entryToResource, resourceToAttributes } from '../../../src/mapping/convert.ts';
import { translateFilter } from '../../../src/mapping/filter.ts';
import { loadMappingDirectory } from '../../../src/mapping/load.ts';
import type { DirEntry, DirFilter } from '../../../src/ports/directory.ts';
import { parseFilter } from '../../../src/scim/filter.ts';

const set = loadMappingDirectory('mappings/openldap', STANDARD_SCHEMAS);
const users = set.resourceTypes.find((r) => r.name === 'User')!;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

const markerOf = (resource: Record<string, unknown>) =>
  resourceToAttributes(users, resource, new Map(), 'create').get('scimfallback')?.values ?? [];

describe('written: what the bridge filled in', () => {
  it.each([
    ['userName only: cn and sn are fallbacks', { userName: 'ada' }, ['cn', 'sn']],
    ['displayName feeds cn: still a fallback', { userName: 'ada', displayName: 'Ada' }, ['cn', 'sn']],
    ['familyName sent: sn is not', { userName: 'ada', name: { familyName: 'L' } }, ['cn']],
    [
      'formatted and familyName sent: nothing',
      { userName: 'ada', name: { formatted: 'A L', familyName: 'L' } },
      [],
    ],
    [
      "formatted equal to displayName is still the client's",
      { userName: 'ada', displayName: 'A L', name: { formatted: 'A L', familyName: 'L' } },
      [],
    ],
    [
      'a work email without primary',
      {
        userName: 'ada',
        name: { formatted: 'A', familyName: 'L' },
        emails: [{ value: 'a@x', type: 'work' }],
      },
      ['primary:mail'],
    ],
    [
      'a work email with primary',
      {
        userName: 'ada',
        name: { formatted: 'A', familyName: 'L' },
        emails: [{ value: 'a@x', type: 'work', primary: true }],
      },
      [],
    ],
    [
      'an untyped email with primary false',
      {
        userName: 'ada',
        name: { formatted: 'A', familyName: 'L' },
        emails: [{ value: 'a@x', primary: false }],
      },
      ['primary:mail'],
    ],
  ])('%s', (_label, resource, tokens) => {
    expect(markerOf(resource)).toEqual(tokens);
  });
});

describe('read: fallbacks are left out', () => {
  const entry = (extra: Record<string, string[]>): DirEntry => ({
    dn: 'uid=ada,ou=People,dc=example,dc=com',
    attributes: { entryuuid: ['0f8fad5b-d9cb-469f-a165-70867728950e'], uid: ['ada'], ...extra },
  });
  const read = (e: DirEntry) => {
    const {
      id: _id,
      meta: _meta,
      ...rest
    } = entryToResource(users, e, { location: '', references: new Map() });
    return rest;
  };

  it.each([
    [
      'no marker: everything reads back',
      { cn: ['ada'], sn: ['ada'] },
      { name: { formatted: 'ada', familyName: 'ada' } },
    ],
    ['cn and sn marked', { cn: ['ada'], sn: ['ada'], scimfallback: ['cn', 'sn'] }, {}],
    ['only cn marked', { cn: ['ada'], sn: ['L'], scimfallback: ['cn'] }, { name: { familyName: 'L' } }],
    ['tokens in other case', { cn: ['ada'], sn: ['ada'], scimfallback: ['CN', 'Sn'] }, {}],
    [
      'an unknown token changes nothing',
      { cn: ['A'], scimfallback: ['title'] },
      { name: { formatted: 'A' } },
    ],
    [
      'a mail not sent as primary',
      { mail: ['a@x'], scimfallback: ['primary:mail'] },
      { emails: [{ value: 'a@x', type: 'work' }] },
    ],
    [
      'a mail sent as primary',
      { mail: ['a@x'] },
      { emails: [{ value: 'a@x', type: 'work', primary: true }] },
    ],
  ])('%s', (_label, attributes, expected) => {
    expect(read(entry(attributes))).toEqual({ schemas: [USER], userName: 'ada', ...expected });
  });
});

describe('filters: a fallback is unassigned', () => {
  const context = { resolveId: async () => undefined };
  const translate = (filter: string) => translateFilter(users, parseFilter(filter), context);
  const unmarked = (token: string): DirFilter => ({
    type: 'not',
    filter: { type: 'equal', attribute: 'scimFallback', value: token },
  });
  const marked = (token: string): DirFilter => ({ type: 'equal', attribute: 'scimFallback', value: token });

  it.each<[string, DirFilter]>([
    ['name.familyName pr', { type: 'and', filters: [{ type: 'present', attribute: 'sn' }, unmarked('sn')] }],
    [
      'name.familyName eq null',
      {
        type: 'not',
        filter: { type: 'and', filters: [{ type: 'present', attribute: 'sn' }, unmarked('sn')] },
      },
    ],
    [
      'name.formatted ne "x"',
      {
        type: 'not',
        filter: { type: 'and', filters: [{ type: 'equal', attribute: 'cn', value: 'x' }, unmarked('cn')] },
      },
    ],
    ['name.givenName pr', { type: 'present', attribute: 'givenName' }],
    ['emails[primary eq true]', unmarked('primary:mail')],
    ['emails[primary eq false]', marked('primary:mail')],
    ['emails[primary pr]', unmarked('primary:mail')],
    ['emails[type eq "work" and primary eq true]', unmarked('primary:mail')],
  ])('%s', async (filter, expected) => {
    expect(await translate(filter)).toEqual(expected);
  });
});

describe('without a marker (389-DS preset): compared with the template', () => {
  const set389 = loadMappingDirectory('mappings/389ds', STANDARD_SCHEMAS);
  const users389 = set389.resourceTypes.find((r) => r.name === 'User')!;
  const read = (attributes: Record<string, string[]>) => {
    const entry: DirEntry = {
      dn: 'uid=x,ou=People,dc=example,dc=com',
      attributes: { nsuniqueid: ['a-b-c-d'], ...attributes },
    };
    const {
      id: _id,
      meta: _meta,
      schemas: _schemas,
      ...rest
    } = entryToResource(users389, entry, {
      location: '',
      references: new Map(),
    });
    return rest;
  };

  it.each([
    ['sn equal to uid: the fallback, left out', { uid: ['ada'], sn: ['ada'] }, { userName: 'ada' }],
    [
      "sn differing: the client's",
      { uid: ['ada'], sn: ['Lovelace'] },
      { userName: 'ada', name: { familyName: 'Lovelace' } },
    ],
    [
      'other name parts stay',
      { uid: ['ada'], sn: ['ada'], givenname: ['Ada'] },
      { userName: 'ada', name: { givenName: 'Ada' } },
    ],
    [
      "equal but in other case: the client's",
      { uid: ['ada'], sn: ['Ada'] },
      { userName: 'ada', name: { familyName: 'Ada' } },
    ],
    ['no uid to compare with', { sn: ['ada'] }, { name: { familyName: 'ada' } }],
  ])('%s', (_label, attributes, expected) => {
    expect(read(attributes)).toEqual(expected);
  });
});

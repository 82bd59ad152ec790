/**
 * SCIM filter -> directory filter through the OpenLDAP preset. Expected trees are written by hand
 * from the mapping file (userName->uid, emails work->mail, active->scimActive TRUE/FALSE, ...).
 */
import { describe, expect, it } from 'vitest';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { simplify, translateFilter } from '../../../src/mapping/filter.ts';
import { loadMappingDirectory } from '../../../src/mapping/load.ts';
import type { DirFilter } from '../../../src/ports/directory.ts';
import { ScimError } from '../../../src/scim/errors.ts';
import { parseFilter } from '../../../src/scim/filter.ts';

const set = loadMappingDirectory('mappings/openldap', STANDARD_SCHEMAS);
const users = set.resourceTypes.find((r) => r.name === 'User')!;
const groups = set.resourceTypes.find((r) => r.name === 'Group')!;
const KNOWN_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const context = {
  resolveId: async (_types: string[], id: string) =>
    id === KNOWN_ID ? 'uid=alice,ou=People,dc=example,dc=com' : undefined,
};
const translate = async (filter: string, rt = users) => translateFilter(rt, parseFilter(filter), context);

describe('translation to one directory filter', () => {
  const cases: [string, DirFilter][] = [
    ['userName eq "alice"', { type: 'equal', attribute: 'uid', value: 'alice' }],
    ['USERNAME Eq "alice"', { type: 'equal', attribute: 'uid', value: 'alice' }],
    ['userName ne "alice"', { type: 'not', filter: { type: 'equal', attribute: 'uid', value: 'alice' } }],
    ['displayName co "Love"', { type: 'substring', attribute: 'displayName', any: ['Love'] }],
    ['userName sw "al"', { type: 'substring', attribute: 'uid', initial: 'al', any: [] }],
    ['userName ew "ce"', { type: 'substring', attribute: 'uid', final: 'ce', any: [] }],
    ['title pr', { type: 'present', attribute: 'title' }],
    ['active eq true', { type: 'equal', attribute: 'scimActive', value: 'TRUE' }],
    ['active eq false', { type: 'equal', attribute: 'scimActive', value: 'FALSE' }],
    ['emails.value eq "a@x"', { type: 'equal', attribute: 'mail', value: 'a@x' }],
    ['emails eq "a@x"', { type: 'equal', attribute: 'mail', value: 'a@x' }],
    ['emails[type eq "work"].value eq "a@x"', { type: 'equal', attribute: 'mail', value: 'a@x' }],
    ['emails[type eq "work" and value co "@x"]', { type: 'substring', attribute: 'mail', any: ['@x'] }],
    ['emails[type eq "home" and value co "@x"]', { type: 'false' }],
    ['phoneNumbers[type eq "mobile"].value eq "1"', { type: 'equal', attribute: 'mobile', value: '1' }],
    [
      'phoneNumbers.value eq "1"',
      {
        type: 'or',
        filters: [
          { type: 'equal', attribute: 'telephoneNumber', value: '1' },
          { type: 'equal', attribute: 'mobile', value: '1' },
        ],
      },
    ],
    // sn may hold the computed fallback (userName), which is unassigned for SCIM (mapping/fallbacks.ts).
    [
      'name.familyName eq "Lovelace"',
      {
        type: 'and',
        filters: [
          { type: 'equal', attribute: 'sn', value: 'Lovelace' },
          { type: 'not', filter: { type: 'equal', attribute: 'scimFallback', value: 'sn' } },
        ],
      },
    ],
    [
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7"',
      { type: 'equal', attribute: 'employeeNumber', value: '7' },
    ],
    ['employeeNumber eq "7"', { type: 'equal', attribute: 'employeeNumber', value: '7' }],
    [
      'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"',
      { type: 'equal', attribute: 'uid', value: 'a' },
    ],
    [`id eq "${KNOWN_ID}"`, { type: 'equal', attribute: 'entryUUID', value: KNOWN_ID }],
    ['id eq "not-a-uuid"', { type: 'false' }],
    ['externalId eq "E1"', { type: 'equal', attribute: 'scimExternalId', value: 'E1' }],
    [
      'meta.lastModified ge "2024-05-01T12:00:00Z"',
      { type: 'greaterOrEqual', attribute: 'modifyTimestamp', value: '20240501120000Z' },
    ],
    [
      'meta.created gt "2024-05-01T12:00:00+02:00"',
      {
        type: 'and',
        filters: [
          { type: 'greaterOrEqual', attribute: 'createTimestamp', value: '20240501100000Z' },
          { type: 'not', filter: { type: 'equal', attribute: 'createTimestamp', value: '20240501100000Z' } },
        ],
      },
    ],
    ['title eq null', { type: 'not', filter: { type: 'present', attribute: 'title' } }],
    [
      'userName eq "a" or (title pr and not (active eq false))',
      {
        type: 'or',
        filters: [
          { type: 'equal', attribute: 'uid', value: 'a' },
          {
            type: 'and',
            filters: [
              { type: 'present', attribute: 'title' },
              { type: 'not', filter: { type: 'equal', attribute: 'scimActive', value: 'FALSE' } },
            ],
          },
        ],
      },
    ],
    [
      `groups.value eq "${KNOWN_ID}"`,
      { type: 'equal', attribute: 'memberOf', value: 'uid=alice,ou=People,dc=example,dc=com' },
    ],
    ['groups.value eq "00000000-0000-0000-0000-000000000000"', { type: 'false' }],
  ];
  it.each(cases)('%s', async (filter, expected) => {
    expect(await translate(filter)).toEqual(expected);
  });

  it('translates members.value on groups through the DN of the member', async () => {
    expect(await translate(`members.value eq "${KNOWN_ID}"`, groups)).toEqual({
      type: 'equal',
      attribute: 'member',
      value: 'uid=alice,ou=People,dc=example,dc=com',
    });
  });

  it('keeps client values as values: injection text never becomes filter syntax', async () => {
    for (const hostile of ['*)(uid=*', '*', '\\', '\u0000', '(', 'a)(|(objectClass=*)']) {
      const filter = await translate(`userName eq ${JSON.stringify(hostile)}`);
      expect(filter).toEqual({ type: 'equal', attribute: 'uid', value: hostile });
    }
  });
});

describe('ordering through the declared orderingRule (RFC 4511 §4.5.1.7.7)', () => {
  const before: DirFilter = {
    type: 'extensible',
    attribute: 'uid',
    rule: 'caseIgnoreOrderingMatch',
    value: 'm',
  };
  const equal: DirFilter = { type: 'equal', attribute: 'uid', value: 'm' };
  const present: DirFilter = { type: 'present', attribute: 'uid' };
  it.each<[string, DirFilter]>([
    ['userName lt "m"', before],
    ['userName le "m"', { type: 'or', filters: [before, equal] }],
    ['userName ge "m"', { type: 'and', filters: [present, { type: 'not', filter: before }] }],
    [
      'userName gt "m"',
      { type: 'and', filters: [present, { type: 'not', filter: before }, { type: 'not', filter: equal }] },
    ],
    ['not (userName lt "m")', { type: 'not', filter: before }],
    // externalId's type has an ORDERING rule of its own (scimExternalId): plain >=.
    ['externalId ge "m"', { type: 'greaterOrEqual', attribute: 'scimExternalId', value: 'm' }],
    [
      'meta.lastModified ge "2024-01-01T00:00:00Z"',
      { type: 'greaterOrEqual', attribute: 'modifyTimestamp', value: '20240101000000Z' },
    ],
  ])('%s', async (filter, expected) => {
    expect(await translate(filter)).toEqual(expected);
  });

  it.each([
    'emails gt "m"',
    'emails.value lt "m"',
    'emails[type eq "work" and value ge "m"]',
    'addresses.formatted le "x"',
  ])('%s: the directory has no ordering (orderingRule: none) → invalidFilter', async (filter) => {
    const failure = await translate(filter).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({
      status: 400,
      scimType: 'invalidFilter',
      detail: expect.stringMatching(/no ordering/),
    });
  });
});

describe('what cannot be pushed down is refused with invalidFilter', () => {
  const refused: [string, RegExp][] = [
    ['nickName eq "x"', /not mapped/],
    ['password eq "x"', /cannot be used in a filter/],
    // returned:never (RFC 7643 §7) whatever the operator, presence included, however nested.
    ['password pr', /password cannot be used in a filter/],
    ['PASSWORD pr', /password cannot be used in a filter/],
    ['not (password pr)', /password cannot be used in a filter/],
    ['userName pr and password pr', /password cannot be used in a filter/],
    ['userName eq "a" or not (password sw "B")', /password cannot be used in a filter/],
    ['password eq null', /password cannot be used in a filter/],
    ['password gt "a"', /password cannot be used in a filter/],
    ['urn:ietf:params:scim:schemas:core:2.0:User:password pr', /password cannot be used in a filter/],
    ['active gt true', /gt/],
    ['active co "t"', /string attribute/],
    ['active eq "perhaps"', /true or false/],
    ['meta.lastModified gt "yesterday"', /xsd:dateTime/],
    ['meta.version eq "x"', /meta\.version/],
    ['id co "a"', /only eq and ne/],
    [`groups.value co "${KNOWN_ID}"`, /only eq and ne/],
    ['emails[type eq "work" and emails[value pr]]', /./],
  ];
  it.each(refused)('%s', async (filter, detail) => {
    const failure = await translate(filter).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ScimError);
    expect((failure as ScimError).status).toBe(400);
    expect((failure as ScimError).scimType).toBe('invalidFilter');
    expect((failure as ScimError).detail).toMatch(detail);
  });
});

describe('simplify', () => {
  const t: DirFilter = { type: 'true' };
  const f: DirFilter = { type: 'false' };
  const x: DirFilter = { type: 'present', attribute: 'x' };
  const cases: [DirFilter, DirFilter][] = [
    [{ type: 'and', filters: [t, x] }, x],
    [{ type: 'and', filters: [f, x] }, f],
    [{ type: 'or', filters: [f, x] }, x],
    [{ type: 'or', filters: [t, x] }, t],
    [{ type: 'not', filter: t }, f],
    [{ type: 'not', filter: { type: 'not', filter: x } }, x],
    [
      { type: 'and', filters: [{ type: 'and', filters: [x, x] }, x] },
      { type: 'and', filters: [x, x, x] },
    ],
  ];
  it.each(cases)('%j', (input, expected) => {
    expect(simplify(input)).toEqual(expected);
  });
});

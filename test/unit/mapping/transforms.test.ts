/**
 * Every named transform, both directions, with malformed values; plus the places the AD-specific
 * hooks are used (flag merge on update, binary GUID read, bit filter).
 */
import { describe, expect, it } from 'vitest';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { entryToResource, resourceToAttributes } from '../../../src/mapping/convert.ts';
import { translateFilter } from '../../../src/mapping/filter.ts';
import { compileMappingTexts } from '../../../src/mapping/load.ts';
import {
  generalizedTimeToIso,
  TRANSFORMS,
  type Transform,
  TransformError,
} from '../../../src/mapping/transforms.ts';
import { parseFilter } from '../../../src/scim/filter.ts';

function transform(name: string): Transform {
  const t = TRANSFORMS.get(name);
  if (!t) throw new Error(`no transform ${name}`);
  return t;
}

const FAIL = Symbol('fails');
type Expected = unknown | typeof FAIL;

function check(run: () => unknown, expected: Expected): void {
  if (expected === FAIL) {
    expect(run).toThrow(TransformError);
  } else {
    expect(run()).toEqual(expected);
  }
}

// [transform, SCIM value, LDAP text or FAIL]
const TO_LDAP: [string, unknown, Expected][] = [
  ['string', 'Alice', 'Alice'],
  ['string', 42, '42'],
  ['string', true, 'true'],
  ['string', null, FAIL],
  ['string', { a: 1 }, FAIL],
  ['string', ['a'], FAIL],
  ['boolean', true, 'TRUE'],
  ['boolean', false, 'FALSE'],
  ['boolean', 'True', 'TRUE'],
  ['boolean', 'false', 'FALSE'],
  ['boolean', 'yes', FAIL],
  ['boolean', 1, FAIL],
  ['boolean', null, FAIL],
  ['integer', 7, '7'],
  ['integer', -3, '-3'],
  ['integer', '007', '7'],
  ['integer', 1.5, FAIL],
  ['integer', '1.5', FAIL],
  ['integer', '', FAIL],
  ['integer', 'ten', FAIL],
  ['integer', true, FAIL],
  ['dateTime', '2024-05-01T12:00:00Z', '20240501120000Z'],
  ['dateTime', '2024-05-01T14:30:00+02:00', '20240501123000Z'],
  ['dateTime', '2024-05-01T00:30:00-05:00', '20240501053000Z'],
  ['dateTime', '2024-05-01T12:00:00.987Z', '20240501120000Z'],
  ['dateTime', '2024-05-01T12:00:00', FAIL],
  ['dateTime', '2024-05-01 12:00:00Z', FAIL],
  ['dateTime', '2024-13-01T12:00:00Z', FAIL],
  ['dateTime', '20240501120000Z', FAIL],
  ['dateTime', 1714564800000, FAIL],
  ['lowercase', 'Alice@Example.COM', 'alice@example.com'],
  ['lowercase', null, FAIL],
  ['invertedBoolean', true, 'FALSE'],
  ['invertedBoolean', false, 'TRUE'],
  ['invertedBoolean', 'False', 'TRUE'],
  ['invertedBoolean', 'off', FAIL],
  ['adAccountDisabled', true, '512'],
  ['adAccountDisabled', false, '514'],
  ['adAccountDisabled', 'False', '514'],
  ['adAccountDisabled', 'no', FAIL],
  ['adAccountDisabled', 0, FAIL],
  ['guid', '03020100-0504-0706-0809-0A0B0C0D0E0F', '03020100-0504-0706-0809-0a0b0c0d0e0f'],
  ['guid', '{03020100-0504-0706-0809-0a0b0c0d0e0f}', FAIL],
  ['guid', '03020100050407060809 0a0b0c0d0e0f', FAIL],
  ['guid', 42, FAIL],
];

// [transform, LDAP text, SCIM value or FAIL]
const FROM_LDAP: [string, string, Expected][] = [
  ['string', 'Alice', 'Alice'],
  ['string', '', ''],
  ['boolean', 'TRUE', true],
  ['boolean', 'FALSE', false],
  ['boolean', 'true', true],
  ['boolean', '1', FAIL],
  ['boolean', '', FAIL],
  ['integer', '42', 42],
  ['integer', '-1', -1],
  ['integer', '4x', FAIL],
  ['integer', '', FAIL],
  ['dateTime', '20240501120000Z', '2024-05-01T12:00:00Z'],
  ['dateTime', '20240501140000+0200', '2024-05-01T12:00:00Z'],
  ['dateTime', '20240501120000.5Z', '2024-05-01T12:00:00.500Z'],
  ['dateTime', '20240501120000,25Z', '2024-05-01T12:00:00.250Z'],
  ['dateTime', '2024050112Z', '2024-05-01T12:00:00Z'],
  ['dateTime', '20240501120000', FAIL],
  ['dateTime', '20241301120000Z', FAIL],
  ['dateTime', '2024-05-01T12:00:00Z', FAIL],
  ['lowercase', 'MixedCase', 'MixedCase'],
  ['invertedBoolean', 'TRUE', false],
  ['invertedBoolean', 'false', true],
  ['invertedBoolean', 'locked', FAIL],
  ['adAccountDisabled', '512', true],
  ['adAccountDisabled', '514', false],
  ['adAccountDisabled', '66048', true], // DONT_EXPIRE_PASSWORD | NORMAL_ACCOUNT
  ['adAccountDisabled', '66050', false],
  ['adAccountDisabled', '-2147483134', false], // 0x80000202 as a signed 32-bit number
  ['adAccountDisabled', '0x200', FAIL],
  ['adAccountDisabled', '', FAIL],
  ['adAccountDisabled', '99999999999', FAIL],
  ['guid', '03020100-0504-0706-0809-0A0B0C0D0E0F', '03020100-0504-0706-0809-0a0b0c0d0e0f'],
  ['guid', 'not-a-guid', FAIL],
];

describe('transforms to LDAP', () => {
  it.each(TO_LDAP)('%s(%j) -> %j', (name, value, expected) => {
    check(() => transform(name).toLdap(value), expected);
  });
});

describe('transforms from LDAP', () => {
  it.each(FROM_LDAP)('%s(%j) -> %j', (name, value, expected) => {
    check(() => transform(name).fromLdap(value), expected);
  });
});

describe('adAccountDisabled keeps the other userAccountControl bits', () => {
  // [active, current userAccountControl, written]
  const cases: [unknown, string | undefined, Expected][] = [
    [true, undefined, '512'],
    [false, undefined, '514'],
    [false, '66048', '66050'],
    [true, '66050', '66048'],
    [true, '512', '512'],
    [false, '514', '514'],
    [true, '2147484162', '2147484160'], // high bit set, unsigned
    [true, '-2147483134', '-2147483136'], // same, signed: keeps the sign convention
    [false, '4096', '4098'], // WORKSTATION_TRUST_ACCOUNT is not replaced by NORMAL_ACCOUNT
    [true, 'abc', FAIL],
    [true, '4294967298', FAIL],
    ['maybe', '512', FAIL],
  ];
  it.each(cases)('active=%j over %j -> %j', (active, current, expected) => {
    const t = transform('adAccountDisabled');
    check(() => t.toLdapWithCurrent?.(active, current), expected);
  });

  it('turns eq/ne into a bitwise-AND extensible match and refuses ordering', () => {
    const t = transform('adAccountDisabled');
    const disabled = {
      type: 'extensible',
      attribute: 'userAccountControl',
      rule: '1.2.840.113556.1.4.803',
      value: '2',
    };
    expect(t.compareFilter?.('userAccountControl', 'eq', true)).toEqual({ type: 'not', filter: disabled });
    expect(t.compareFilter?.('userAccountControl', 'eq', false)).toEqual(disabled);
    expect(t.compareFilter?.('userAccountControl', 'ne', true)).toEqual(disabled);
    expect(t.compareFilter?.('userAccountControl', 'ne', 'false')).toEqual({ type: 'not', filter: disabled });
    expect(() => t.compareFilter?.('userAccountControl', 'gt', true)).toThrow(TransformError);
    expect(() => t.compareFilter?.('userAccountControl', 'eq', 'maybe')).toThrow(TransformError);
  });
});

describe('guid, binary', () => {
  const bytes = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  const text = '03020100-0504-0706-0809-0a0b0c0d0e0f'; // MS-DTYP §2.3.4: first three groups little-endian
  const t = transform('guid');

  it('reads 16 bytes as the canonical string and refuses other lengths', () => {
    expect(t.fromLdapBytes?.(bytes)).toBe(text);
    expect(() => t.fromLdapBytes?.(bytes.subarray(0, 15))).toThrow(TransformError);
    expect(() => t.fromLdapBytes?.(Buffer.alloc(0))).toThrow(TransformError);
  });

  it('writes the canonical string as the 16 bytes, case-insensitively, and refuses non-GUIDs', () => {
    expect(t.toLdapBytes?.(text)).toEqual(bytes);
    expect(t.toLdapBytes?.(text.toUpperCase())).toEqual(bytes);
    expect(() => t.toLdapBytes?.('03020100-0504-0706-0809')).toThrow(TransformError);
    expect(() => t.toLdapBytes?.(null)).toThrow(TransformError);
  });
});

const AD_USERS = `resourceType: User
endpoint: /Users
schema: urn:ietf:params:scim:schemas:core:2.0:User
directory:
  base: CN=Users,DC=example,DC=com
  objectClasses: [user]
  filter: (objectClass=user)
  dnTemplate: CN={userName},CN=Users,DC=example,DC=com
  id: objectGUID
  version: uSNChanged
attributes:
  userName: { ldap: sAMAccountName }
  externalId: { ldap: msDS-ConsistencyGuid, transform: guid, readOnly: true }
  active: { ldap: userAccountControl, transform: adAccountDisabled }
`;

describe('guid filters and mapping checks', () => {
  const t = transform('guid');
  it('compares GUIDs as their bytes and refuses ordering and non-GUIDs', () => {
    const bytes = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    const id = '03020100-0504-0706-0809-0a0b0c0d0e0f';
    expect(t.compareFilter?.('objectGUID', 'eq', id)).toEqual({
      type: 'equal',
      attribute: 'objectGUID',
      value: bytes,
    });
    expect(t.compareFilter?.('objectGUID', 'ne', id)).toEqual({
      type: 'not',
      filter: { type: 'equal', attribute: 'objectGUID', value: bytes },
    });
    expect(() => t.compareFilter?.('objectGUID', 'gt', id)).toThrow(TransformError);
    expect(() => t.compareFilter?.('objectGUID', 'eq', 'nope')).toThrow(TransformError);
  });

  it('refuses a writable rule with the binary guid transform', () => {
    const text = AD_USERS.replace('transform: guid, readOnly: true', 'transform: guid');
    expect(() => compileMappingTexts([{ file: 'users.yaml', text }], STANDARD_SCHEMAS)).toThrow(
      /users\.yaml:\d+:\d+ .*cannot write it/,
    );
  });
});

describe('AD transforms inside the converter', () => {
  const set = compileMappingTexts([{ file: 'users.yaml', text: AD_USERS }], STANDARD_SCHEMAS);
  const rt = set.resourceTypes[0]!;

  it('requests guid-transformed attributes as binary', () => {
    expect(rt.directory.binaryAttributes).toEqual(['objectGUID', 'msDS-ConsistencyGuid']);
  });

  it('merges active into the current userAccountControl on update, and writes 512/514 on create', () => {
    const entry = { dn: 'CN=a,CN=Users,DC=example,DC=com', attributes: { useraccountcontrol: ['66048'] } };
    const update = resourceToAttributes(rt, { userName: 'a', active: false }, new Map(), 'replace', entry);
    expect(update.get('useraccountcontrol')?.values).toEqual(['66050']);
    const create = resourceToAttributes(rt, { userName: 'a', active: false }, new Map(), 'create');
    expect(create.get('useraccountcontrol')?.values).toEqual(['514']);
  });

  it('reads a binary GUID attribute and the disabled bit', () => {
    const entry = {
      dn: 'CN=a,CN=Users,DC=example,DC=com',
      attributes: {
        objectguid: [Buffer.alloc(16, 0xab)],
        samaccountname: ['a'],
        'msds-consistencyguid': [Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])],
        useraccountcontrol: ['514'],
      },
    };
    const resource = entryToResource(rt, entry, { location: '', references: new Map() });
    expect(resource.externalId).toBe('03020100-0504-0706-0809-0a0b0c0d0e0f');
    expect(resource.active).toBe(false);
    expect(resource.id).toBe('abababab-abab-abab-abab-abababababab');
  });

  it('filters active with the bitwise-AND rule', async () => {
    const filter = await translateFilter(rt, parseFilter('active eq true'), {
      resolveId: async () => undefined,
    });
    expect(JSON.stringify(filter)).toContain('1.2.840.113556.1.4.803');
    expect(filter).toMatchObject({
      type: 'not',
      filter: { type: 'extensible', attribute: 'userAccountControl' },
    });
  });
});

describe('generalizedTimeToIso (meta.created / meta.lastModified)', () => {
  const cases: [string, string | undefined][] = [
    ['20261123101010Z', '2026-11-23T10:10:10.000Z'],
    ['20240229235959Z', '2024-02-29T23:59:59.000Z'],
    ['19991231000000Z', '1999-12-31T00:00:00.000Z'],
    // Other forms go the long way and still come out in ISO form.
    ['20240501123000.5Z', '2024-05-01T12:30:00.500Z'],
    ['20240501123000+0200', '2024-05-01T10:30:00.000Z'],
    ['202405011230Z', '2024-05-01T12:30:00.000Z'],
    // Out-of-range fields are not rewritten blindly.
    ['20241301000000Z', undefined],
    ['20240101240000Z', '2024-01-02T00:00:00.000Z'],
    ['20240101236000Z', undefined],
    ['2024010100000aZ', undefined],
    ['', undefined],
    ['not a time', undefined],
  ];
  it.each(cases)('%s -> %s', (text, expected) => {
    expect(generalizedTimeToIso(text)).toBe(expected);
  });
});

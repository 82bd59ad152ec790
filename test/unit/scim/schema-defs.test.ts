import { describe, expect, it } from 'vitest';
import { parseAttributePath } from '../../../src/scim/filter.ts';
import {
  COMMON_ATTRIBUTES,
  ENTERPRISE_USER_SCHEMA,
  ENTERPRISE_USER_SCHEMA_DEFINITION,
  findAttribute,
  findSubAttribute,
  GROUP_SCHEMA,
  GROUP_SCHEMA_DEFINITION,
  STANDARD_SCHEMA_DEFINITIONS,
  USER_SCHEMA,
  USER_SCHEMA_DEFINITION,
  urnMatches,
} from '../../../src/scim/schema-defs.ts';
import type { AttributeDefinition, SchemaDefinition } from '../../../src/scim/schema-types.ts';

function at(schema: SchemaDefinition | readonly AttributeDefinition[], dotted: string): AttributeDefinition {
  const [name, sub] = dotted.split('.') as [string, string | undefined];
  const attr = findAttribute(schema, name);
  if (!attr) throw new Error(`no attribute ${name}`);
  if (sub === undefined) return attr;
  const s = findSubAttribute(attr, sub);
  if (!s) throw new Error(`no sub-attribute ${dotted}`);
  return s;
}

describe('schema ids (RFC 7643 §8.7.1)', () => {
  it('are the registered URNs', () => {
    expect(USER_SCHEMA).toBe('urn:ietf:params:scim:schemas:core:2.0:User');
    expect(GROUP_SCHEMA).toBe('urn:ietf:params:scim:schemas:core:2.0:Group');
    expect(ENTERPRISE_USER_SCHEMA).toBe('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User');
    expect(USER_SCHEMA_DEFINITION.id).toBe(USER_SCHEMA);
    expect(GROUP_SCHEMA_DEFINITION.id).toBe(GROUP_SCHEMA);
    expect(ENTERPRISE_USER_SCHEMA_DEFINITION.id).toBe(ENTERPRISE_USER_SCHEMA);
    expect(STANDARD_SCHEMA_DEFINITIONS.map((s) => s.name)).toEqual(['User', 'Group', 'EnterpriseUser']);
  });
});

describe('attribute lists', () => {
  it('User has every attribute of RFC 7643 §4.1', () => {
    expect(USER_SCHEMA_DEFINITION.attributes.map((a) => a.name)).toEqual([
      'userName',
      'name',
      'displayName',
      'nickName',
      'profileUrl',
      'title',
      'userType',
      'preferredLanguage',
      'locale',
      'timezone',
      'active',
      'password',
      'emails',
      'phoneNumbers',
      'ims',
      'photos',
      'addresses',
      'groups',
      'entitlements',
      'roles',
      'x509Certificates',
    ]);
    expect(at(USER_SCHEMA_DEFINITION, 'name').subAttributes?.map((a) => a.name)).toEqual([
      'formatted',
      'familyName',
      'givenName',
      'middleName',
      'honorificPrefix',
      'honorificSuffix',
    ]);
    expect(at(USER_SCHEMA_DEFINITION, 'addresses').subAttributes?.map((a) => a.name)).toEqual([
      'formatted',
      'streetAddress',
      'locality',
      'region',
      'postalCode',
      'country',
      'type',
      'primary',
    ]);
    for (const name of [
      'emails',
      'phoneNumbers',
      'ims',
      'photos',
      'entitlements',
      'roles',
      'x509Certificates',
    ]) {
      expect(at(USER_SCHEMA_DEFINITION, name).subAttributes?.map((a) => a.name)).toEqual([
        'value',
        'display',
        'type',
        'primary',
      ]);
    }
    expect(at(USER_SCHEMA_DEFINITION, 'groups').subAttributes?.map((a) => a.name)).toEqual([
      'value',
      '$ref',
      'display',
      'type',
    ]);
  });

  it('Group has displayName and members {value, $ref, type, display}', () => {
    expect(GROUP_SCHEMA_DEFINITION.attributes.map((a) => a.name)).toEqual(['displayName', 'members']);
    expect(at(GROUP_SCHEMA_DEFINITION, 'members').subAttributes?.map((a) => a.name)).toEqual([
      'value',
      '$ref',
      'type',
      'display',
    ]);
  });

  it('Enterprise User has the §4.3 attributes', () => {
    expect(ENTERPRISE_USER_SCHEMA_DEFINITION.attributes.map((a) => a.name)).toEqual([
      'employeeNumber',
      'costCenter',
      'organization',
      'division',
      'department',
      'manager',
    ]);
    expect(at(ENTERPRISE_USER_SCHEMA_DEFINITION, 'manager').subAttributes?.map((a) => a.name)).toEqual([
      'value',
      '$ref',
      'displayName',
    ]);
  });

  it('common attributes are id, externalId, meta (RFC 7643 §3.1)', () => {
    expect(COMMON_ATTRIBUTES.map((a) => a.name)).toEqual(['id', 'externalId', 'meta']);
    expect(at(COMMON_ATTRIBUTES, 'meta').subAttributes?.map((a) => a.name)).toEqual([
      'resourceType',
      'created',
      'lastModified',
      'location',
      'version',
    ]);
  });
});

// [schema, attribute path, characteristic, expected] — from RFC 7643 §8.7.1 / §3.1.
const CHARACTERISTICS: [
  string,
  SchemaDefinition | readonly AttributeDefinition[],
  string,
  keyof AttributeDefinition,
  unknown,
][] = [
  ['User', USER_SCHEMA_DEFINITION, 'userName', 'required', true],
  ['User', USER_SCHEMA_DEFINITION, 'userName', 'uniqueness', 'server'],
  ['User', USER_SCHEMA_DEFINITION, 'userName', 'caseExact', false],
  ['User', USER_SCHEMA_DEFINITION, 'userName', 'mutability', 'readWrite'],
  ['User', USER_SCHEMA_DEFINITION, 'name', 'type', 'complex'],
  ['User', USER_SCHEMA_DEFINITION, 'name', 'multiValued', false],
  ['User', USER_SCHEMA_DEFINITION, 'name.givenName', 'type', 'string'],
  ['User', USER_SCHEMA_DEFINITION, 'displayName', 'required', false],
  ['User', USER_SCHEMA_DEFINITION, 'profileUrl', 'type', 'reference'],
  ['User', USER_SCHEMA_DEFINITION, 'profileUrl', 'referenceTypes', ['external']],
  ['User', USER_SCHEMA_DEFINITION, 'active', 'type', 'boolean'],
  ['User', USER_SCHEMA_DEFINITION, 'password', 'mutability', 'writeOnly'],
  ['User', USER_SCHEMA_DEFINITION, 'password', 'returned', 'never'],
  ['User', USER_SCHEMA_DEFINITION, 'emails', 'multiValued', true],
  ['User', USER_SCHEMA_DEFINITION, 'emails', 'type', 'complex'],
  ['User', USER_SCHEMA_DEFINITION, 'emails.type', 'canonicalValues', ['work', 'home', 'other']],
  ['User', USER_SCHEMA_DEFINITION, 'emails.primary', 'type', 'boolean'],
  [
    'User',
    USER_SCHEMA_DEFINITION,
    'phoneNumbers.type',
    'canonicalValues',
    ['work', 'home', 'mobile', 'fax', 'pager', 'other'],
  ],
  [
    'User',
    USER_SCHEMA_DEFINITION,
    'ims.type',
    'canonicalValues',
    ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'],
  ],
  ['User', USER_SCHEMA_DEFINITION, 'photos.value', 'type', 'reference'],
  ['User', USER_SCHEMA_DEFINITION, 'photos.type', 'canonicalValues', ['photo', 'thumbnail']],
  ['User', USER_SCHEMA_DEFINITION, 'addresses', 'multiValued', true],
  ['User', USER_SCHEMA_DEFINITION, 'groups', 'mutability', 'readOnly'],
  ['User', USER_SCHEMA_DEFINITION, 'groups.value', 'mutability', 'readOnly'],
  ['User', USER_SCHEMA_DEFINITION, 'groups.$ref', 'referenceTypes', ['User', 'Group']],
  ['User', USER_SCHEMA_DEFINITION, 'groups.type', 'canonicalValues', ['direct', 'indirect']],
  ['User', USER_SCHEMA_DEFINITION, 'x509Certificates.value', 'type', 'binary'],
  ['Group', GROUP_SCHEMA_DEFINITION, 'displayName', 'type', 'string'],
  ['Group', GROUP_SCHEMA_DEFINITION, 'members', 'multiValued', true],
  ['Group', GROUP_SCHEMA_DEFINITION, 'members', 'mutability', 'readWrite'],
  ['Group', GROUP_SCHEMA_DEFINITION, 'members.value', 'mutability', 'immutable'],
  ['Group', GROUP_SCHEMA_DEFINITION, 'members.$ref', 'mutability', 'immutable'],
  ['Group', GROUP_SCHEMA_DEFINITION, 'members.$ref', 'referenceTypes', ['User', 'Group']],
  ['Group', GROUP_SCHEMA_DEFINITION, 'members.type', 'mutability', 'immutable'],
  ['Group', GROUP_SCHEMA_DEFINITION, 'members.type', 'canonicalValues', ['User', 'Group']],
  ['Enterprise', ENTERPRISE_USER_SCHEMA_DEFINITION, 'employeeNumber', 'type', 'string'],
  ['Enterprise', ENTERPRISE_USER_SCHEMA_DEFINITION, 'manager', 'type', 'complex'],
  ['Enterprise', ENTERPRISE_USER_SCHEMA_DEFINITION, 'manager.value', 'mutability', 'readWrite'],
  ['Enterprise', ENTERPRISE_USER_SCHEMA_DEFINITION, 'manager.$ref', 'referenceTypes', ['User']],
  ['Enterprise', ENTERPRISE_USER_SCHEMA_DEFINITION, 'manager.displayName', 'mutability', 'readOnly'],
  ['common', COMMON_ATTRIBUTES, 'id', 'mutability', 'readOnly'],
  ['common', COMMON_ATTRIBUTES, 'id', 'returned', 'always'],
  ['common', COMMON_ATTRIBUTES, 'id', 'caseExact', true],
  ['common', COMMON_ATTRIBUTES, 'id', 'uniqueness', 'server'],
  ['common', COMMON_ATTRIBUTES, 'externalId', 'caseExact', true],
  ['common', COMMON_ATTRIBUTES, 'externalId', 'mutability', 'readWrite'],
  ['common', COMMON_ATTRIBUTES, 'meta', 'mutability', 'readOnly'],
  ['common', COMMON_ATTRIBUTES, 'meta.created', 'type', 'dateTime'],
  ['common', COMMON_ATTRIBUTES, 'meta.location', 'type', 'reference'],
];

describe('characteristics', () => {
  it.each(CHARACTERISTICS)('%s %s.%s', (_s, schema, dotted, key, expected) => {
    expect(at(schema, dotted)[key]).toEqual(expected);
  });

  const all = [...STANDARD_SCHEMA_DEFINITIONS.flatMap((s) => s.attributes), ...COMMON_ATTRIBUTES];
  it('sub-attributes are never complex, only complex attributes have them (RFC 7643 §2.3.8)', () => {
    for (const a of all) {
      expect(a.subAttributes !== undefined).toBe(a.type === 'complex');
      for (const s of a.subAttributes ?? []) expect(s.type).not.toBe('complex');
    }
  });

  it('every name is a valid ATTRNAME the path parser accepts', () => {
    for (const a of all) {
      expect(parseAttributePath(a.name)).toEqual({ attribute: a.name });
      for (const s of a.subAttributes ?? []) {
        expect(parseAttributePath(`${a.name}.${s.name}`)).toEqual({
          attribute: a.name,
          subAttribute: s.name,
        });
      }
    }
  });
});

describe('look-ups', () => {
  it.each([
    ['username', 'userName'],
    ['USERNAME', 'userName'],
    ['X509CERTIFICATES', 'x509Certificates'],
    ['phonenumbers', 'phoneNumbers'],
  ])('findAttribute(User, %s) → %s', (name, expected) => {
    expect(findAttribute(USER_SCHEMA_DEFINITION, name)?.name).toBe(expected);
    expect(findAttribute(USER_SCHEMA_DEFINITION.attributes, name)?.name).toBe(expected);
  });

  it('returns undefined for unknown names', () => {
    expect(findAttribute(USER_SCHEMA_DEFINITION, 'userNam')).toBeUndefined();
    expect(findAttribute(USER_SCHEMA_DEFINITION, '')).toBeUndefined();
    expect(findAttribute(USER_SCHEMA_DEFINITION, 'members')).toBeUndefined();
  });

  it('findSubAttribute is case-insensitive and undefined on simple attributes', () => {
    const name = findAttribute(USER_SCHEMA_DEFINITION, 'name');
    const userName = findAttribute(USER_SCHEMA_DEFINITION, 'userName');
    if (!name || !userName) throw new Error('missing');
    expect(findSubAttribute(name, 'GIVENNAME')?.name).toBe('givenName');
    expect(findSubAttribute(name, 'nope')).toBeUndefined();
    expect(findSubAttribute(userName, 'value')).toBeUndefined();
    const members = findAttribute(GROUP_SCHEMA_DEFINITION, 'members');
    expect(members && findSubAttribute(members, '$REF')?.name).toBe('$ref');
  });

  it.each([
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', true],
    ['URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER', true],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0User', true],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0', false],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:', false],
    ['urn:ietf:params:scim:schemas:extension:enterprise2.0:User', false],
    ['urn:ietf:params:scim:schemas:core:2.0:User', false],
  ])('urnMatches(%s, enterprise) → %s', (urn, expected) => {
    expect(urnMatches(urn, ENTERPRISE_USER_SCHEMA)).toBe(expected);
  });
});

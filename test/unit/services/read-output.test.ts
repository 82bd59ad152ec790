/**
 * What a read answers, byte for byte (key order included), for entries modelled on the local
 * default's sample users and groups (config/ldap/sample.ldif): extensions, multi-valued and typed
 * values, a binary value, missing attributes, fallbacks, and attributes= / excludedAttributes=.
 * The expected resources are written out by hand from RFC 7643 / RFC 7644 §3.4.2.5 and the
 * OpenLDAP mapping (mappings/openldap), so that a faster read path must answer the same text.
 */
import { describe, expect, it } from 'vitest';
import { parseAttributeList } from '../../../src/scim/projection.ts';
import { bench, ctx, GROUPS, ldapGroup, ldapUser, OPENLDAP, PEOPLE, typeOf } from './fixtures.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const BASE = ctx.baseUrl;
const users = typeOf(OPENLDAP, 'User');
const groups = typeOf(OPENLDAP, 'Group');

const id = {
  alice: 'a11ce000-0000-4000-8000-000000000001',
  bob: 'b0b00000-0000-4000-8000-000000000002',
  carol: 'ca801000-0000-4000-8000-000000000003',
  erin: 'e8140000-0000-4000-8000-000000000005',
  engineering: 'e9000000-0000-4000-8000-00000000000e',
  allStaff: 'a1100000-0000-4000-8000-0000000000a5',
  empty: 'e3900000-0000-4000-8000-0000000000e0',
};
const dn = {
  alice: `uid=alice,${PEOPLE}`,
  bob: `uid=bob,${PEOPLE}`,
  carol: `uid=carol,${PEOPLE}`,
  erin: `uid=erin,${PEOPLE}`,
  engineering: `cn=engineering,${GROUPS}`,
  allStaff: `cn=all-staff,${GROUPS}`,
};

/** alice: every mapped attribute the sample has and more (mobile, address, extension, manager). */
const alice = ldapUser('alice', id.alice.toUpperCase(), {
  givenName: ['Alice'],
  sn: ['Anderson'],
  cn: ['Alice Anderson'],
  displayName: ['Alice Anderson'],
  mail: ['alice@example.com', 'a.anderson@example.com'],
  title: ['Engineering Manager'],
  preferredLanguage: ['en-GB'],
  employeeNumber: ['1001'],
  departmentNumber: ['R&D'],
  o: ['Example'],
  telephoneNumber: ['+1 555 0101'],
  mobile: ['+1 555 0199'],
  postalAddress: ['1 Main St$Springfield'],
  l: ['Springfield'],
  co: ['US'],
  scimExternalId: ['ext-alice-0001'],
  userPassword: ['{SSHA}secret'],
  memberOf: [dn.engineering, dn.allStaff],
  manager: [dn.bob],
  createTimestamp: ['20240102030405Z'],
  modifyTimestamp: ['20240607080910Z'],
  entryCSN: ['20240607080910.000000Z#000000#000#000000'],
});
/** bob: no fallback marker, so cn and sn are his name; title arrives as bytes. */
const bob = ldapUser('bob', id.bob, { memberOf: [dn.engineering], createTimestamp: ['20240102030405Z'] });
bob.attributes.title = [Buffer.from('Software Engineer', 'utf8')];
/** carol: cn and sn were filled in by the bridge (scimFallback), and her email was not sent as primary. */
const carol = ldapUser('carol', id.carol, {
  mail: ['carol@example.com'],
  scimFallback: ['cn', 'sn', 'primary:mail'],
  modifyTimestamp: ['20240607080910Z'],
});
/** erin: deprovisioned (scimActive FALSE: active false) and without timestamps. */
const erin = ldapUser('erin', id.erin, { scimActive: ['FALSE'], sn: ['Evans'], cn: ['Erin Evans'] });
const engineering = {
  ...ldapGroup('engineering', id.engineering, [dn.alice, dn.bob]),
};
engineering.attributes.scimExternalId = ['ext-eng'];
const allStaff = ldapGroup('all-staff', id.allStaff, [dn.alice]);
const entries = [alice, bob, carol, erin, engineering, allStaff];

/** meta (RFC 7643 §3.1): resourceType, the timestamps there are, location, then version. */
const meta = (
  type: string,
  path: string,
  resourceId: string,
  { version, ...times }: { created?: string; lastModified?: string; version: string },
) => ({ resourceType: type, ...times, location: `${BASE}/${path}/${resourceId}`, version });
const groupRef = (groupId: string, name: string) => ({
  value: groupId,
  $ref: `${BASE}/Groups/${groupId}`,
  display: name,
});
const userMember = (userId: string, name?: string) => ({
  value: userId,
  $ref: `${BASE}/Users/${userId}`,
  ...(name ? { display: name } : {}),
  type: 'User',
});

const aliceFull = {
  schemas: [USER, ENTERPRISE],
  id: id.alice,
  userName: 'alice',
  externalId: 'ext-alice-0001',
  name: { givenName: 'Alice', familyName: 'Anderson', formatted: 'Alice Anderson' },
  displayName: 'Alice Anderson',
  title: 'Engineering Manager',
  preferredLanguage: 'en-GB',
  // The primary rule marks its first value (no fallback marker says otherwise).
  emails: [
    { value: 'alice@example.com', type: 'work', primary: true },
    { value: 'a.anderson@example.com', type: 'work' },
  ],
  phoneNumbers: [
    { value: '+1 555 0101', type: 'work' },
    { value: '+1 555 0199', type: 'mobile' },
  ],
  // postalAddress lines ($) become one multi-line `formatted`; the other work-address rules fill the same element.
  addresses: [{ formatted: '1 Main St\nSpringfield', type: 'work', locality: 'Springfield', country: 'US' }],
  active: true,
  groups: [groupRef(id.engineering, 'engineering'), groupRef(id.allStaff, 'all-staff')],
  [ENTERPRISE]: {
    employeeNumber: '1001',
    department: 'R&D',
    organization: 'Example',
    // A reference's display is the target's displayName; bob has none, so there is no display.
    manager: { value: id.bob, $ref: `${BASE}/Users/${id.bob}` },
  },
  meta: meta('User', 'Users', id.alice, {
    created: '2024-01-02T03:04:05.000Z',
    lastModified: '2024-06-07T08:09:10.000Z',
    version: 'W/"20240607080910.000000Z#000000#000#000000"',
  }),
};

interface Case {
  name: string;
  type: 'User' | 'Group';
  id: string;
  attributes?: string;
  excludedAttributes?: string;
  expected: Record<string, unknown>;
}

const cases: Case[] = [
  { name: 'alice, everything', type: 'User', id: id.alice, expected: aliceFull },
  {
    name: 'bob: cn/sn are his name, bytes read as text, created stands in for lastModified',
    type: 'User',
    id: id.bob,
    expected: {
      schemas: [USER],
      id: id.bob,
      userName: 'bob',
      name: { familyName: 'bob', formatted: 'bob' },
      title: 'Software Engineer',
      active: true,
      groups: [groupRef(id.engineering, 'engineering')],
      meta: meta('User', 'Users', id.bob, {
        created: '2024-01-02T03:04:05.000Z',
        lastModified: '2024-01-02T03:04:05.000Z',
        version: 'W/"csn-bob"',
      }),
    },
  },
  {
    name: 'carol: fallbacks left out, email not primary, no groups (unassigned)',
    type: 'User',
    id: id.carol,
    expected: {
      schemas: [USER],
      id: id.carol,
      userName: 'carol',
      emails: [{ value: 'carol@example.com', type: 'work' }],
      active: true,
      meta: meta('User', 'Users', id.carol, {
        lastModified: '2024-06-07T08:09:10.000Z',
        version: 'W/"csn-carol"',
      }),
    },
  },
  {
    name: 'erin: active false, no timestamps',
    type: 'User',
    id: id.erin,
    expected: {
      schemas: [USER],
      id: id.erin,
      userName: 'erin',
      name: { familyName: 'Evans', formatted: 'Erin Evans' },
      active: false,
      meta: meta('User', 'Users', id.erin, { version: 'W/"csn-erin"' }),
    },
  },
  {
    name: 'attributes=userName: id and schemas always, meta not named so left out',
    type: 'User',
    id: id.alice,
    attributes: 'userName',
    expected: { schemas: [USER], id: id.alice, userName: 'alice' },
  },
  {
    name: 'attributes with a sub-attribute, a complex multi-valued one, mixed case and meta',
    type: 'User',
    id: id.alice,
    attributes: 'Name.givenName,emails,META',
    expected: {
      schemas: [USER],
      id: id.alice,
      name: { givenName: 'Alice' },
      emails: aliceFull.emails,
      meta: aliceFull.meta,
    },
  },
  {
    name: 'attributes=emails.value: only value kept in each element',
    type: 'User',
    id: id.alice,
    attributes: 'emails.value',
    expected: {
      schemas: [USER],
      id: id.alice,
      emails: [{ value: 'alice@example.com' }, { value: 'a.anderson@example.com' }],
    },
  },
  {
    name: 'attributes=emails[type eq "work"] (Entra): the attribute',
    type: 'User',
    id: id.alice,
    attributes: 'emails[type eq "work"]',
    expected: { schemas: [USER], id: id.alice, emails: aliceFull.emails },
  },
  {
    name: 'attributes= a bare extension URN: all of it, schemas list it',
    type: 'User',
    id: id.alice,
    attributes: ENTERPRISE,
    expected: { schemas: [USER, ENTERPRISE], id: id.alice, [ENTERPRISE]: aliceFull[ENTERPRISE] },
  },
  {
    name: 'attributes= one extension attribute by full path',
    type: 'User',
    id: id.alice,
    attributes: `${ENTERPRISE}:department,userName`,
    expected: {
      schemas: [USER, ENTERPRISE],
      id: id.alice,
      userName: 'alice',
      [ENTERPRISE]: { department: 'R&D' },
    },
  },
  {
    name: 'attributes= extension sub-attribute manager.value',
    type: 'User',
    id: id.alice,
    attributes: `${ENTERPRISE}:manager.value`,
    expected: { schemas: [USER, ENTERPRISE], id: id.alice, [ENTERPRISE]: { manager: { value: id.bob } } },
  },
  {
    name: 'attributes=groups named: carol in no group gets []',
    type: 'User',
    id: id.carol,
    attributes: 'groups',
    expected: { schemas: [USER], id: id.carol, groups: [] },
  },
  {
    name: 'attributes=password: returned never, so nothing but id',
    type: 'User',
    id: id.alice,
    attributes: 'password,id',
    expected: { schemas: [USER], id: id.alice },
  },
  {
    name: 'excludedAttributes: groups, the extension attributes, meta; id cannot be excluded',
    type: 'User',
    id: id.alice,
    excludedAttributes: `groups,${ENTERPRISE}:department,${ENTERPRISE}:employeeNumber,${ENTERPRISE}:organization,${ENTERPRISE}:manager,meta,id,emails,phoneNumbers,addresses,name`,
    expected: {
      schemas: [USER],
      id: id.alice,
      userName: 'alice',
      externalId: 'ext-alice-0001',
      displayName: 'Alice Anderson',
      title: 'Engineering Manager',
      preferredLanguage: 'en-GB',
      active: true,
    },
  },
  {
    name: 'excludedAttributes with sub-attributes: name.formatted and emails.type',
    type: 'User',
    id: id.alice,
    excludedAttributes: 'name.formatted,emails.type,groups',
    expected: (() => {
      const { groups: _groups, ...rest } = aliceFull;
      return {
        ...rest,
        name: { givenName: 'Alice', familyName: 'Anderson' },
        emails: [{ value: 'alice@example.com', primary: true }, { value: 'a.anderson@example.com' }],
      };
    })(),
  },
  {
    name: 'group with members (type User) and externalId',
    type: 'Group',
    id: id.engineering,
    expected: {
      schemas: [GROUP],
      id: id.engineering,
      displayName: 'engineering',
      externalId: 'ext-eng',
      members: [userMember(id.alice, 'Alice Anderson'), userMember(id.bob)],
      meta: meta('Group', 'Groups', id.engineering, { version: 'W/"csn-engineering"' }),
    },
  },
  {
    name: 'group, excludedAttributes=members',
    type: 'Group',
    id: id.allStaff,
    excludedAttributes: 'members',
    expected: {
      schemas: [GROUP],
      id: id.allStaff,
      displayName: 'all-staff',
      meta: meta('Group', 'Groups', id.allStaff, { version: 'W/"csn-all-staff"' }),
    },
  },
  {
    name: 'group, attributes=members.value,displayName',
    type: 'Group',
    id: id.allStaff,
    attributes: 'members.value,displayName',
    expected: { schemas: [GROUP], id: id.allStaff, displayName: 'all-staff', members: [{ value: id.alice }] },
  },
];

describe('a read answers the resource written out by hand (issue 17: a faster read path says the same)', () => {
  it.each(cases)('GET $name', async (c) => {
    const { service } = bench(entries);
    const result = await service.get({
      resourceType: c.type === 'User' ? users : groups,
      id: c.id,
      projection: projectionOf(c),
      ctx,
    });
    // Text, not deep equality: key order is part of what a client receives.
    expect(JSON.stringify(result.resource)).toBe(JSON.stringify(c.expected));
  });

  it.each(cases.filter((c) => c.type === 'User'))('list, filter by id: $name', async (c) => {
    const { service } = bench(entries);
    const result = await service.list({
      resourceType: users,
      query: { ...projectionOf(c), filter: `id eq "${c.id}"` },
      ctx,
    });
    expect(result.Resources.map((r) => JSON.stringify(r))).toEqual([JSON.stringify(c.expected)]);
  });
});

function projectionOf(c: Case) {
  const attributes = parseAttributeList(c.attributes, 'attributes');
  const excludedAttributes = parseAttributeList(c.excludedAttributes, 'excludedAttributes');
  return { ...(attributes ? { attributes } : {}), ...(excludedAttributes ? { excludedAttributes } : {}) };
}

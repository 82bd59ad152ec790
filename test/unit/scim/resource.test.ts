import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalizeResource, canonicalizeResourceWithReport } from '../../../src/scim/canonicalize.ts';
import { ScimError } from '../../../src/scim/errors.ts';
import type { ResourceShape, ScimObject } from '../../../src/scim/resource.ts';
import {
  ENTERPRISE_USER_SCHEMA as ENT,
  ENTERPRISE_USER_SCHEMA_DEFINITION,
  GROUP_SCHEMA,
  GROUP_SCHEMA_DEFINITION,
  USER_SCHEMA,
  USER_SCHEMA_DEFINITION,
} from '../../../src/scim/schema-defs.ts';
import type { AttributeDefinition, SchemaDefinition } from '../../../src/scim/schema-types.ts';

const USER: ResourceShape = {
  coreSchema: USER_SCHEMA_DEFINITION,
  extensions: [{ schema: ENTERPRISE_USER_SCHEMA_DEFINITION, required: false }],
};
const GROUP: ResourceShape = { coreSchema: GROUP_SCHEMA_DEFINITION, extensions: [] };

function a(
  name: string,
  type: AttributeDefinition['type'],
  more: Partial<AttributeDefinition> = {},
): AttributeDefinition {
  return {
    name,
    type,
    multiValued: false,
    description: '',
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...more,
  };
}

const DEVICE_SCHEMA = 'urn:example:scim:schemas:Device';
const DEVICE_EXT = 'urn:example:scim:schemas:extension:Lab:1.0:Device';
const DEVICE: SchemaDefinition = {
  id: DEVICE_SCHEMA,
  name: 'Device',
  description: '',
  attributes: [
    a('serial', 'string', { required: true, mutability: 'immutable', caseExact: false }),
    a('slots', 'integer'),
    a('weight', 'decimal'),
    a('bought', 'dateTime'),
    a('firmware', 'binary'),
    a('tags', 'string', { multiValued: true }),
    a('owner', 'complex', {
      subAttributes: [
        a('value', 'string', { required: true }),
        a('badge', 'string', { mutability: 'immutable' }),
      ],
    }),
    a('computed', 'string', { mutability: 'readOnly' }),
  ],
};
const LAB: SchemaDefinition = {
  id: DEVICE_EXT,
  name: 'Lab',
  description: '',
  attributes: [a('bench', 'string', { required: true }), a('note', 'string')],
};
const DEVICE_SHAPE: ResourceShape = { coreSchema: DEVICE, extensions: [{ schema: LAB, required: true }] };

function errorOf(run: () => unknown): ScimError {
  try {
    run();
  } catch (err) {
    if (err instanceof ScimError) return err;
    throw new Error(`expected a ScimError, got ${String(err)}`);
  }
  throw new Error('expected an error, got a result');
}

describe('canonicalizeResource: RFC 7643 §8.2 full user', () => {
  it('keeps writable data, drops readOnly id/meta/groups, types everything', () => {
    const body = {
      schemas: [USER_SCHEMA, ENT],
      id: '2819c223-7f76-453a-919d-413861904646',
      externalId: '701984',
      userName: 'bjensen@example.com',
      name: { formatted: 'Ms. Barbara J Jensen, III', familyName: 'Jensen', givenName: 'Barbara' },
      displayName: 'Babs Jensen',
      emails: [
        { value: 'bjensen@example.com', type: 'work', primary: true },
        { value: 'babs@jensen.org', type: 'home' },
      ],
      addresses: [{ type: 'work', streetAddress: '100 Universal City Plaza', primary: true }],
      phoneNumbers: [{ value: '555-555-5555', type: 'work' }],
      active: true,
      password: 't1meMa$heen',
      groups: [{ value: 'e9e30dba', $ref: 'https://example.com/v2/Groups/e9e30dba', display: 'Tour Guides' }],
      x509Certificates: [{ value: 'MIIDQzCCAqygAwIBAgICEAAwDQYJ' }],
      meta: { resourceType: 'User', created: '2010-01-23T04:56:22Z' },
      [ENT]: {
        employeeNumber: '701984',
        costCenter: '4130',
        manager: {
          value: '26118915-6090-4610-87e4-49d8ca9f808d',
          $ref: '../Users/26118915',
          displayName: 'John Smith',
        },
      },
    };
    expect(canonicalizeResourceWithReport(body, USER, 'create')).toEqual({
      resource: {
        schemas: [USER_SCHEMA, ENT],
        externalId: '701984',
        userName: 'bjensen@example.com',
        name: { formatted: 'Ms. Barbara J Jensen, III', familyName: 'Jensen', givenName: 'Barbara' },
        displayName: 'Babs Jensen',
        emails: [
          { value: 'bjensen@example.com', type: 'work', primary: true },
          { value: 'babs@jensen.org', type: 'home' },
        ],
        addresses: [{ type: 'work', streetAddress: '100 Universal City Plaza', primary: true }],
        phoneNumbers: [{ value: '555-555-5555', type: 'work' }],
        active: true,
        password: 't1meMa$heen',
        x509Certificates: [{ value: 'MIIDQzCCAqygAwIBAgICEAAwDQYJ' }],
        [ENT]: {
          employeeNumber: '701984',
          costCenter: '4130',
          manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d', $ref: '../Users/26118915' },
        },
      },
      ignored: [],
    });
  });
});

describe('canonicalizeResource: names', () => {
  it('canonicalises attribute and sub-attribute names to the schema spelling (RFC 7643 §2.1)', () => {
    const out = canonicalizeResource(
      {
        SCHEMAS: [USER_SCHEMA.toUpperCase()],
        USERNAME: 'a',
        Name: { GIVENNAME: 'A', familyname: 'B' },
        EMAILS: [{ VALUE: 'a@x', Type: 'work', PRIMARY: true }],
        ExternalID: 'e',
        [ENT.toLowerCase()]: { EMPLOYEENUMBER: '7' },
      },
      USER,
      'create',
    );
    expect(out).toEqual({
      schemas: [USER_SCHEMA, ENT],
      userName: 'a',
      name: { givenName: 'A', familyName: 'B' },
      emails: [{ value: 'a@x', type: 'work', primary: true }],
      externalId: 'e',
      [ENT]: { employeeNumber: '7' },
    });
  });

  it('accepts the core URN as an attribute prefix (RFC 7644 §3.10)', () => {
    expect(canonicalizeResource({ [`${USER_SCHEMA}:userName`]: 'a' }, USER, 'create')).toEqual({
      schemas: [USER_SCHEMA],
      userName: 'a',
    });
  });

  it('rejects the same attribute given twice under different spellings', () => {
    const err = errorOf(() => canonicalizeResource({ userName: 'a', USERNAME: 'b' }, USER, 'create'));
    expect(err.scimType).toBe('invalidValue');
    expect(err.detail).toContain('userName is given more than once');
    const ext = errorOf(() =>
      canonicalizeResource(
        { userName: 'a', [ENT]: { department: 'x' }, [`${ENT}:department`]: 'y' },
        USER,
        'create',
      ),
    );
    expect(ext.detail).toContain(`${ENT}:department is given more than once`);
    const sub = errorOf(() =>
      canonicalizeResource(
        { userName: 'a', [`${ENT}:manager`]: { value: 'm' }, [`${ENT}:manager.value`]: 'n' },
        USER,
        'create',
      ),
    );
    expect(sub.detail).toContain('manager.value is given more than once');
  });
});

describe('canonicalizeResource: extensions', () => {
  it.each([
    ['nested under the URN', { userName: 'a', [ENT]: { department: 'Sales', manager: { value: 'm1' } } }],
    [
      'flattened URN-qualified keys',
      { userName: 'a', [`${ENT}:department`]: 'Sales', [`${ENT}:manager`]: { value: 'm1' } },
    ],
    [
      'flattened sub-attribute key',
      { userName: 'a', [`${ENT}:department`]: 'Sales', [`${ENT}:manager.value`]: 'm1' },
    ],
    [
      "Entra's 2.0User container",
      {
        userName: 'a',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0User': { department: 'Sales', manager: 'm1' },
      },
    ],
    [
      "Entra's 2.0User flattened",
      {
        userName: 'a',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0User:department': 'Sales',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0User:manager': 'm1',
      },
    ],
    ['manager as a bare id (Entra)', { userName: 'a', [ENT]: { department: 'Sales', manager: 'm1' } }],
    [
      'schemas with the malformed URN',
      {
        schemas: [USER_SCHEMA, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0User'],
        userName: 'a',
        [ENT]: { department: 'Sales', manager: { value: 'm1', displayName: 'ignored, readOnly' } },
      },
    ],
  ])('%s', (_label, body) => {
    expect(canonicalizeResource(body, USER, 'create')).toEqual({
      schemas: [USER_SCHEMA, ENT],
      userName: 'a',
      [ENT]: { department: 'Sales', manager: { value: 'm1' } },
    });
  });

  it('drops an extension whose values are all unassigned, and lists only present ones in schemas', () => {
    expect(
      canonicalizeResource(
        { schemas: [USER_SCHEMA, ENT], userName: 'a', [ENT]: { department: null } },
        USER,
        'create',
      ),
    ).toEqual({ schemas: [USER_SCHEMA], userName: 'a' });
    expect(canonicalizeResource({ userName: 'a', [ENT]: null }, USER, 'create')).toEqual({
      schemas: [USER_SCHEMA],
      userName: 'a',
    });
  });

  it('rejects a non-object extension container', () => {
    const err = errorOf(() => canonicalizeResource({ userName: 'a', [ENT]: 'x' }, USER, 'create'));
    expect(err.scimType).toBe('invalidValue');
    expect(err.detail).toContain(ENT);
  });

  it('requires a required extension and its required attributes (RFC 7643 §6)', () => {
    const missingExt = errorOf(() => canonicalizeResource({ serial: 'S1' }, DEVICE_SHAPE, 'create'));
    expect(missingExt.scimType).toBe('invalidValue');
    expect(missingExt.detail).toContain(`${DEVICE_EXT} is required`);
    const missingAttr = errorOf(() =>
      canonicalizeResource({ serial: 'S1', [DEVICE_EXT]: { note: 'n' } }, DEVICE_SHAPE, 'create'),
    );
    expect(missingAttr.detail).toContain(`${DEVICE_EXT}:bench`);
    const listedOnly = errorOf(() =>
      canonicalizeResource({ schemas: [DEVICE_SCHEMA, DEVICE_EXT], serial: 'S1' }, DEVICE_SHAPE, 'create'),
    );
    expect(listedOnly.detail).toContain(`${DEVICE_EXT}:bench`);
    expect(
      canonicalizeResource({ serial: 'S1', [`${DEVICE_EXT}:bench`]: 'B2' }, DEVICE_SHAPE, 'create'),
    ).toEqual({
      schemas: [DEVICE_SCHEMA, DEVICE_EXT],
      serial: 'S1',
      [DEVICE_EXT]: { bench: 'B2' },
    });
  });
});

describe('canonicalizeResource: schemas', () => {
  it('tolerates a missing schemas attribute', () => {
    expect(canonicalizeResource({ userName: 'a' }, USER, 'create')).toEqual({
      schemas: [USER_SCHEMA],
      userName: 'a',
    });
  });

  it.each([
    [{ schemas: [ENT], userName: 'a' }, 'invalidValue', `must include ${USER_SCHEMA}`],
    [{ schemas: [], userName: 'a' }, 'invalidValue', `must include ${USER_SCHEMA}`],
    [{ schemas: [GROUP_SCHEMA], userName: 'a' }, 'invalidValue', `must include ${USER_SCHEMA}`],
    [{ schemas: USER_SCHEMA, userName: 'a' }, 'invalidSyntax', 'array'],
    [{ schemas: [USER_SCHEMA, 7], userName: 'a' }, 'invalidSyntax', 'array'],
  ])('%j → %s', (body, scimType, fragment) => {
    const err = errorOf(() => canonicalizeResource(body, USER, 'create'));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe(scimType);
    expect(err.detail).toContain(fragment);
  });
});

describe('canonicalizeResource: unassigned and readOnly values', () => {
  it('treats null, [] and empty objects as absent (RFC 7643 §2.5)', () => {
    expect(
      canonicalizeResource(
        {
          userName: 'a',
          displayName: null,
          emails: [],
          name: {},
          phoneNumbers: [{ value: null }],
          nickName: '',
        },
        USER,
        'create',
      ),
    ).toEqual({ schemas: [USER_SCHEMA], userName: 'a', nickName: '' });
  });

  it('drops readOnly attributes and sub-attributes silently', () => {
    const { resource, ignored } = canonicalizeResourceWithReport(
      {
        userName: 'a',
        id: 'x',
        meta: { version: 'W/"1"' },
        groups: [{ value: 'g' }],
        [ENT]: { manager: { displayName: 'M' } },
      },
      USER,
      'create',
    );
    expect(resource).toEqual({ schemas: [USER_SCHEMA], userName: 'a' });
    expect(ignored).toEqual([]);
  });
});

describe('canonicalizeResource: tolerated dialects', () => {
  it.each([
    ['True', true],
    ['true', true],
    ['False', false],
    ['FALSE', false],
    [true, true],
    [false, false],
  ])('active %j → %s', (raw, expected) => {
    expect(canonicalizeResource({ userName: 'a', active: raw }, USER, 'create').active).toBe(expected);
  });

  it('wraps one value where a multi-valued attribute is expected', () => {
    expect(
      canonicalizeResource({ userName: 'a', emails: { value: 'a@x', type: 'work' } }, USER, 'create').emails,
    ).toEqual([{ value: 'a@x', type: 'work' }]);
    expect(canonicalizeResource({ userName: 'a', emails: 'a@x' }, USER, 'create').emails).toEqual([
      { value: 'a@x' },
    ]);
    expect(
      canonicalizeResource({ serial: 's', tags: 'x', [DEVICE_EXT]: { bench: 'b' } }, DEVICE_SHAPE, 'create')
        .tags,
    ).toEqual(['x']);
  });
});

describe('canonicalizeResource: type errors name the attribute path', () => {
  const device = (extra: ScimObject) => ({ serial: 's', [DEVICE_EXT]: { bench: 'b' }, ...extra });
  it.each([
    [USER, { userName: 5 }, 'userName must be a string'],
    [USER, { userName: 'a', emails: [{ value: 'a@x' }, { value: 3 }] }, 'emails[1].value must be a string'],
    [USER, { userName: 'a', emails: [{ value: 'a@x' }, null] }, 'emails[1] must not be null'],
    [USER, { userName: 'a', emails: [['a@x']] }, 'emails[0] must be a single value'],
    [
      USER,
      { userName: 'a', emails: [{ value: 'a@x', primary: 'yes' }] },
      'emails[0].primary must be a boolean',
    ],
    [USER, { userName: 'a', active: 'yes' }, 'active must be a boolean'],
    [USER, { userName: 'a', active: 1 }, 'active must be a boolean'],
    [USER, { userName: 'a', name: 'Barbara' }, 'name must be an object'],
    [USER, { userName: 'a', name: ['x', 'y'] }, 'name must be a single value'],
    // a one-element array of a non-object is still refused (Entra's [{...}] form is accepted)
    [USER, { userName: 'a', name: ['x'] }, 'name must be an object'],
    [USER, { userName: ['a'] }, 'userName must be a single value'],
    [USER, { userName: 'a', profileUrl: {} }, 'profileUrl must be a string'],
    [
      USER,
      { userName: 'a', x509Certificates: [{ value: 'not base64!' }] },
      'x509Certificates[0].value must be a base64',
    ],
    [USER, { userName: 'a', [ENT]: { employeeNumber: 7 } }, `${ENT}:employeeNumber must be a string`],
    [USER, { userName: 'a', [ENT]: { manager: { value: 1 } } }, `${ENT}:manager.value must be a string`],
    [USER, { userName: 'a', [ENT]: { manager: 42 } }, `${ENT}:manager must be an object`],
    [GROUP, { displayName: 'g', members: [{ value: {} }] }, 'members[0].value must be a string'],
    [DEVICE_SHAPE, device({ slots: 1.5 }), 'slots must be an integer'],
    [DEVICE_SHAPE, device({ slots: '2' }), 'slots must be an integer'],
    [DEVICE_SHAPE, device({ weight: '1.5' }), 'weight must be a number'],
    [DEVICE_SHAPE, device({ bought: 'yesterday' }), 'bought must be a dateTime'],
    [DEVICE_SHAPE, device({ bought: '2010-13-23T04:56:22Z' }), 'bought must be a dateTime'],
    [DEVICE_SHAPE, device({ tags: ['a', 2] }), 'tags[1] must be a string'],
    [DEVICE_SHAPE, device({ owner: { badge: 'b' } }), 'owner.value is required'],
  ])('%#: %j', (shape, body, detail) => {
    const err = errorOf(() => canonicalizeResource(body, shape, 'create'));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidValue');
    expect(err.detail).toContain(detail);
  });

  it('accepts well-typed values of every type', () => {
    expect(
      canonicalizeResource(
        device({
          slots: 4,
          weight: 1.25,
          bought: '2010-01-23T04:56:22.5+02:00',
          firmware: 'AAEC/w==',
          tags: ['a', 'b'],
          owner: { value: 'u1', badge: 'B' },
          computed: 'dropped',
        }),
        DEVICE_SHAPE,
        'create',
      ),
    ).toEqual({
      schemas: [DEVICE_SCHEMA, DEVICE_EXT],
      serial: 's',
      slots: 4,
      weight: 1.25,
      bought: '2010-01-23T04:56:22.5+02:00',
      firmware: 'AAEC/w==',
      tags: ['a', 'b'],
      owner: { value: 'u1', badge: 'B' },
      [DEVICE_EXT]: { bench: 'b' },
    });
  });
});

describe('canonicalizeResource: unknown attributes are ignored and reported', () => {
  it('lists each ignored path', () => {
    const { resource, ignored } = canonicalizeResourceWithReport(
      {
        userName: 'a',
        favouriteColour: 'blue',
        'bad name': 1,
        emails: [{ value: 'a@x', label: 'x' }],
        name: { givenName: 'A', nick: 'x' },
        [ENT]: { department: 'D', floor: 3 },
        [`${ENT}:wing`]: 'W',
        'emails.value': 'b@x',
        [USER_SCHEMA]: { userName: 'nested core is not a thing' },
      },
      USER,
      'create',
    );
    expect(resource).toEqual({
      schemas: [USER_SCHEMA, ENT],
      userName: 'a',
      emails: [{ value: 'a@x' }],
      name: { givenName: 'A' },
      [ENT]: { department: 'D' },
    });
    expect(ignored.sort()).toEqual(
      [
        'favouriteColour',
        'bad name',
        'emails[0].label',
        'name.nick',
        `${ENT}:floor`,
        `${ENT}:wing`,
        'emails.value',
        USER_SCHEMA,
      ].sort(),
    );
  });
});

describe('canonicalizeResource: schema URIs the resource type does not know (RFC 7643 §3)', () => {
  const ADSCIM = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';
  const ACME = 'urn:example:params:scim:schemas:extension:acme:2.0:User';
  it.each([
    ['listed, nothing under it', { schemas: [USER_SCHEMA, ACME], userName: 'a' }],
    ['listed in other case', { schemas: [USER_SCHEMA, ACME.toUpperCase()], userName: 'a' }],
    ['an http URI listed (Entra ADSCIM)', { schemas: [USER_SCHEMA, ADSCIM], userName: 'a' }],
    ['an empty object under it', { schemas: [USER_SCHEMA, ACME], userName: 'a', [ACME]: {} }],
    ['null under it', { schemas: [USER_SCHEMA, ACME], userName: 'a', [ACME]: null }],
    ['a group schema listed beside the user schema', { schemas: [USER_SCHEMA, GROUP_SCHEMA], userName: 'a' }],
  ])('%s: accepted, and not listed in the result', (_label, body) => {
    expect(canonicalizeResource(body, USER, 'create')).toEqual({ schemas: [USER_SCHEMA], userName: 'a' });
  });

  it.each([
    [
      'attributes under a listed URN',
      { schemas: [USER_SCHEMA, ACME], userName: 'a', [ACME]: { costCenter: '1' } },
      ACME,
    ],
    ['attributes under an unlisted URN', { userName: 'a', [ACME]: { costCenter: '1' } }, ACME],
    ['a URN-qualified attribute of an unknown URN', { userName: 'a', [`${ACME}:costCenter`]: '1' }, ACME],
    [
      'a URN-qualified attribute of an unknown URN, other case',
      { userName: 'a', [`${ACME.toUpperCase()}:x`]: 1 },
      ACME.toUpperCase(),
    ],
    [
      'attributes under an http URI',
      { schemas: [USER_SCHEMA, ADSCIM], userName: 'a', [ADSCIM]: { objectId: 'x' } },
      ADSCIM,
    ],
    [
      'a scalar under a listed non-URN URI',
      { schemas: [USER_SCHEMA, 'acme'], userName: 'a', acme: 'x' },
      'acme',
    ],
    ['an array under an unknown URN', { userName: 'a', [ACME]: [1] }, ACME],
    [
      'the Group core URN holding attributes',
      { userName: 'a', [GROUP_SCHEMA]: { displayName: 'x' } },
      GROUP_SCHEMA,
    ],
  ])('%s: 400 invalidValue naming it', (_label, body, named) => {
    const err = errorOf(() => canonicalizeResource(body, USER, 'create'));
    expect(err.scimType).toBe('invalidValue');
    expect(err.detail).toContain(named);
  });
});

describe('canonicalizeResource: required and primary', () => {
  it.each(['create', 'replace'] as const)('requires userName on %s', (mode) => {
    const err = errorOf(() => canonicalizeResource({ displayName: 'x' }, USER, mode));
    expect(err.scimType).toBe('invalidValue');
    expect(err.detail).toBe('Required attribute(s) missing: userName');
    expect(errorOf(() => canonicalizeResource({ userName: null }, USER, mode)).detail).toContain('userName');
  });

  it('does not require a Group displayName (RFC 7643 §8.7.1 says required: false)', () => {
    expect(canonicalizeResource({ members: [{ value: 'u1' }] }, GROUP, 'create')).toEqual({
      schemas: [GROUP_SCHEMA],
      members: [{ value: 'u1' }],
    });
  });

  it('rejects more than one primary value (RFC 7643 §2.4)', () => {
    const err = errorOf(() =>
      canonicalizeResource(
        {
          userName: 'a',
          emails: [
            { value: 'a@x', primary: true },
            { value: 'b@x', primary: 'True' },
          ],
        },
        USER,
        'create',
      ),
    );
    expect(err.scimType).toBe('invalidValue');
    expect(err.detail).toContain('emails has 2 values with "primary": true');
    expect(
      canonicalizeResource(
        {
          userName: 'a',
          emails: [
            { value: 'a@x', primary: true },
            { value: 'b@x', primary: false },
          ],
        },
        USER,
        'create',
      ).emails,
    ).toHaveLength(2);
  });
});

describe('canonicalizeResource: body shape', () => {
  it.each([null, [], 'x', 3, true, undefined])('rejects %j with invalidSyntax', (body) => {
    const err = errorOf(() => canonicalizeResource(body, USER, 'create'));
    expect(err.scimType).toBe('invalidSyntax');
    expect(err.status).toBe(400);
  });
});

describe('canonicalizeResource: replace with the stored resource (immutable, RFC 7644 §3.5.1)', () => {
  const stored = {
    schemas: [DEVICE_SCHEMA, DEVICE_EXT],
    id: 'd1',
    serial: 'S-1',
    owner: { value: 'u1', badge: 'B1' },
    [DEVICE_EXT]: { bench: 'b' },
  };
  it('accepts the same immutable value (caseExact false compares case-insensitively)', () => {
    expect(
      canonicalizeResource(
        { serial: 's-1', owner: { value: 'u2', badge: 'B1' }, [DEVICE_EXT]: { bench: 'c' } },
        DEVICE_SHAPE,
        'replace',
        stored,
      ),
    ).toEqual({
      schemas: [DEVICE_SCHEMA, DEVICE_EXT],
      serial: 's-1',
      owner: { value: 'u2', badge: 'B1' },
      [DEVICE_EXT]: { bench: 'c' },
    });
  });

  it('refuses a changed immutable attribute or sub-attribute with mutability', () => {
    const err = errorOf(() =>
      canonicalizeResource({ serial: 'S-2', [DEVICE_EXT]: { bench: 'b' } }, DEVICE_SHAPE, 'replace', stored),
    );
    expect(err.scimType).toBe('mutability');
    expect(err.detail).toContain('serial is immutable');
    const sub = errorOf(() =>
      canonicalizeResource(
        { serial: 'S-1', owner: { value: 'u1', badge: 'B2' }, [DEVICE_EXT]: { bench: 'b' } },
        DEVICE_SHAPE,
        'replace',
        stored,
      ),
    );
    expect(sub.scimType).toBe('mutability');
    expect(sub.detail).toContain('owner.badge is immutable');
  });

  it('keeps an omitted immutable value (the client did not assert it)', () => {
    expect(
      canonicalizeResource({ [DEVICE_EXT]: { bench: 'b' } }, DEVICE_SHAPE, 'replace', stored).serial,
    ).toBe('S-1');
  });

  it('without the stored resource only checks the body', () => {
    expect(
      canonicalizeResource({ serial: 'S-9', [DEVICE_EXT]: { bench: 'b' } }, DEVICE_SHAPE, 'replace').serial,
    ).toBe('S-9');
  });
});

// --- Properties ---------------------------------------------------------------------------------

const text = fc.string({ minLength: 1, maxLength: 12 });
const userBodyArb = fc.record(
  {
    userName: text,
    displayName: text,
    active: fc.boolean(),
    name: fc.record({ givenName: text, familyName: text }, { requiredKeys: [] }),
    emails: fc.array(
      fc.record({ value: text, type: fc.constantFrom('work', 'home') }, { requiredKeys: ['value'] }),
      {
        maxLength: 3,
      },
    ),
    [ENT]: fc.record({ department: text, manager: fc.record({ value: text }) }, { requiredKeys: [] }),
  },
  { requiredKeys: ['userName'] },
);

function recase(value: unknown, flips: boolean[], at = { i: 0 }): unknown {
  if (Array.isArray(value)) return value.map((v) => recase(v, flips, at));
  if (typeof value !== 'object' || value === null) return value;
  const out: ScimObject = {};
  for (const [k, v] of Object.entries(value)) {
    const flip = flips[at.i++ % Math.max(flips.length, 1)] ?? false;
    out[flip ? k.toUpperCase() : k.toLowerCase()] = recase(v, flips, at);
  }
  return out;
}

describe('canonicalizeResource: properties', () => {
  it('re-casing every key gives the same result (names are case-insensitive)', () => {
    fc.assert(
      fc.property(userBodyArb, fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }), (body, flips) => {
        expect(canonicalizeResource(recase(body, flips), USER, 'create')).toEqual(
          canonicalizeResource(body, USER, 'create'),
        );
      }),
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(userBodyArb, (body) => {
        const once = canonicalizeResource(body, USER, 'create');
        expect(canonicalizeResource(once, USER, 'replace')).toEqual(once);
      }),
    );
  });

  it('any JSON body gives a resource or a 400 ScimError, never another exception', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.dictionary(
            fc.constantFrom('userName', 'emails', 'name', 'active', ENT, 'schemas', 'x'),
            fc.jsonValue(),
          ),
        ),
        (body) => {
          try {
            canonicalizeResource(body, USER, 'create');
          } catch (err) {
            expect(err).toBeInstanceOf(ScimError);
            expect((err as ScimError).status).toBe(400);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

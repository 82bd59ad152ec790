import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScimError } from '../../../src/scim/errors.ts';
import type { FilterNode } from '../../../src/scim/filter-ast.ts';
import { applyPatch, applyPatchYielding } from '../../../src/scim/patch.ts';
import {
  PATCH_OP_SCHEMA,
  type PatchOperation,
  parsePatchRequest,
  parsePatchRequestYielding,
} from '../../../src/scim/patch-request.ts';
import type { ResourceShape, ScimObject } from '../../../src/scim/resource.ts';
import {
  ENTERPRISE_USER_SCHEMA as ENT,
  ENTERPRISE_USER_SCHEMA_DEFINITION,
  GROUP_SCHEMA,
  GROUP_SCHEMA_DEFINITION,
  USER_SCHEMA,
  USER_SCHEMA_DEFINITION,
} from '../../../src/scim/schema-defs.ts';
import type { SchemaDefinition } from '../../../src/scim/schema-types.ts';

const USER: ResourceShape = {
  coreSchema: USER_SCHEMA_DEFINITION,
  extensions: [{ schema: ENTERPRISE_USER_SCHEMA_DEFINITION, required: false }],
};
const GROUP: ResourceShape = { coreSchema: GROUP_SCHEMA_DEFINITION, extensions: [] };

const body = (...Operations: unknown[]) => ({ schemas: [PATCH_OP_SCHEMA], Operations });
const eq = (attribute: string, value: string | boolean): FilterNode => ({
  type: 'compare',
  path: { attribute },
  operator: 'eq',
  value,
});

function errorOf(run: () => unknown): ScimError {
  try {
    run();
  } catch (err) {
    if (err instanceof ScimError) return err;
    throw new Error(`expected a ScimError, got ${String(err)}`);
  }
  throw new Error('expected an error, got a result');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

// --- parsePatchRequest ---------------------------------------------------------------------------

const BABS = '2819c223-7f76-453a-919d-413861904646';

const PARSED: [string, unknown, PatchOperation[]][] = [
  [
    'RFC 7644 §3.5.2.1 add members',
    body({
      op: 'add',
      path: 'members',
      value: [{ display: 'Babs Jensen', $ref: `https://example.com/v2/Users/${BABS}`, value: BABS }],
    }),
    [
      {
        op: 'add',
        path: { path: { attribute: 'members' } },
        value: [{ display: 'Babs Jensen', $ref: `https://example.com/v2/Users/${BABS}`, value: BABS }],
      },
    ],
  ],
  [
    'RFC 7644 §3.5.2.1 add without path',
    body({ op: 'add', value: { emails: [{ value: 'babs@jensen.org', type: 'home' }], nickname: 'Babs' } }),
    [
      {
        op: 'add',
        path: { path: { attribute: 'emails' } },
        value: [{ value: 'babs@jensen.org', type: 'home' }],
      },
      { op: 'add', path: { path: { attribute: 'nickname' } }, value: 'Babs' },
    ],
  ],
  [
    'RFC 7644 §3.5.2.2 remove one member',
    body({ op: 'remove', path: `members[value eq "${BABS}"]` }),
    [{ op: 'remove', path: { path: { attribute: 'members' }, valueFilter: eq('value', BABS) } }],
  ],
  [
    'RFC 7644 §3.5.2.2 remove all members',
    body({ op: 'remove', path: 'members' }),
    [{ op: 'remove', path: { path: { attribute: 'members' } } }],
  ],
  [
    'RFC 7644 §3.5.2.3 replace a work address',
    body({
      op: 'replace',
      path: 'addresses[type eq "work"]',
      value: { type: 'work', streetAddress: '911 Universal City Plaza' },
    }),
    [
      {
        op: 'replace',
        path: { path: { attribute: 'addresses' }, valueFilter: eq('type', 'work') },
        value: { type: 'work', streetAddress: '911 Universal City Plaza' },
      },
    ],
  ],
  [
    'RFC 7644 §3.5.2.3 replace a sub-attribute of the work address',
    body({ op: 'replace', path: 'addresses[type eq "work"].streetAddress', value: '1010 Broadway Ave' }),
    [
      {
        op: 'replace',
        path: {
          path: { attribute: 'addresses' },
          valueFilter: eq('type', 'work'),
          subAttribute: 'streetAddress',
        },
        value: '1010 Broadway Ave',
      },
    ],
  ],
  [
    'Entra: Replace active "False"',
    body({ op: 'Replace', path: 'active', value: 'False' }),
    [{ op: 'replace', path: { path: { attribute: 'active' } }, value: 'False' }],
  ],
  [
    'Entra: path-less replace with a dotted and a URN-qualified key',
    body({ op: 'Replace', value: { 'name.givenName': 'x', [`${ENT}:department`]: 'y' } }),
    [
      { op: 'replace', path: { path: { attribute: 'name', subAttribute: 'givenName' } }, value: 'x' },
      { op: 'replace', path: { path: { schema: ENT, attribute: 'department' } }, value: 'y' },
    ],
  ],
  [
    'Entra: Remove members listed in value',
    body({ op: 'Remove', path: 'members', value: [{ value: 'u1' }] }),
    [{ op: 'remove', path: { path: { attribute: 'members' } }, value: [{ value: 'u1' }] }],
  ],
  [
    'Entra: Add with the manager path',
    body({ op: 'Add', path: `${ENT}:manager`, value: 'm9' }),
    [{ op: 'add', path: { path: { schema: ENT, attribute: 'manager' } }, value: 'm9' }],
  ],
  [
    'Okta: path-less replace active',
    body({ op: 'replace', value: { active: false } }),
    [{ op: 'replace', path: { path: { attribute: 'active' } }, value: false }],
  ],
  [
    'Okta: group rename repeating the id',
    body({ op: 'replace', value: { id: 'g1', displayName: 'new' } }),
    [
      { op: 'replace', path: { path: { attribute: 'id' } }, value: 'g1' },
      { op: 'replace', path: { path: { attribute: 'displayName' } }, value: 'new' },
    ],
  ],
  [
    'path-less value with an extension container',
    body({ op: 'add', value: { [ENT]: { department: 'D', 'manager.value': 'm' }, userName: 'u' } }),
    [
      { op: 'add', path: { path: { schema: ENT, attribute: 'department' } }, value: 'D' },
      { op: 'add', path: { path: { schema: ENT, attribute: 'manager', subAttribute: 'value' } }, value: 'm' },
      { op: 'add', path: { path: { attribute: 'userName' } }, value: 'u' },
    ],
  ],
  [
    "Entra's 2.0User container",
    body({
      op: 'replace',
      value: { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0User': { department: 'D' } },
    }),
    [{ op: 'replace', path: { path: { schema: ENT, attribute: 'department' } }, value: 'D' }],
  ],
  [
    'keys of any case, schemas key inside a path-less value skipped',
    {
      SCHEMAS: [PATCH_OP_SCHEMA.toUpperCase()],
      operations: [
        { OP: 'ADD', Path: 'title', VALUE: 'Dr' },
        { op: 'replace', value: { schemas: [USER_SCHEMA], title: 'Mx' } },
      ],
    },
    [
      { op: 'add', path: { path: { attribute: 'title' } }, value: 'Dr' },
      { op: 'replace', path: { path: { attribute: 'title' } }, value: 'Mx' },
    ],
  ],
  [
    'an explicit null value is kept (replace with null unassigns)',
    body({ op: 'replace', path: 'title', value: null }),
    [{ op: 'replace', path: { path: { attribute: 'title' } }, value: null }],
  ],
];

describe('parsePatchRequest: valid bodies', () => {
  it.each(PARSED)('%s', (_label, input, expected) => {
    expect(parsePatchRequest(input)).toEqual(expected);
  });

  it('uses the shape to recognise custom extension containers', () => {
    const custom: SchemaDefinition = {
      id: 'urn:example:ext:1.0:Badge',
      name: 'Badge',
      description: '',
      attributes: [],
    };
    const shape: ResourceShape = {
      coreSchema: USER_SCHEMA_DEFINITION,
      extensions: [{ schema: custom, required: false }],
    };
    const input = body({ op: 'add', value: { 'urn:example:ext:1.0:Badge': { color: 'red' } } });
    expect(parsePatchRequest(input, shape)).toEqual([
      {
        op: 'add',
        path: { path: { schema: 'urn:example:ext:1.0:Badge', attribute: 'color' } },
        value: 'red',
      },
    ]);
    // without the shape the key reads as an attribute path: applyPatch still recognises it
    expect(parsePatchRequest(input)).toEqual([
      {
        op: 'add',
        path: { path: { schema: 'urn:example:ext:1.0', attribute: 'Badge' } },
        value: { color: 'red' },
      },
    ]);
  });
});

const MALFORMED: [string, unknown, string, string][] = [
  ['body is null', null, 'invalidSyntax', 'JSON object'],
  ['body is an array', [], 'invalidSyntax', 'JSON object'],
  [
    'missing schemas',
    { Operations: [{ op: 'add', path: 'title', value: 'x' }] },
    'invalidSyntax',
    PATCH_OP_SCHEMA,
  ],
  [
    'wrong schemas',
    { schemas: [USER_SCHEMA], Operations: [{ op: 'add', path: 'title', value: 'x' }] },
    'invalidSyntax',
    PATCH_OP_SCHEMA,
  ],
  ['schemas not an array', { schemas: PATCH_OP_SCHEMA, Operations: [] }, 'invalidSyntax', PATCH_OP_SCHEMA],
  ['missing Operations', { schemas: [PATCH_OP_SCHEMA] }, 'invalidSyntax', 'Operations'],
  ['empty Operations', body(), 'invalidSyntax', 'non-empty'],
  [
    'Operations not an array',
    { schemas: [PATCH_OP_SCHEMA], Operations: { op: 'add' } },
    'invalidSyntax',
    'Operations',
  ],
  ['operation not an object', body('add'), 'invalidSyntax', 'Operations[0] must be an object'],
  ['op "move"', body({ op: 'move', path: 'title', value: 'x' }), 'invalidSyntax', 'Operations[0].op'],
  ['op missing', body({ path: 'title', value: 'x' }), 'invalidSyntax', 'missing'],
  ['op not a string', body({ op: 1, path: 'title', value: 'x' }), 'invalidSyntax', 'Operations[0].op'],
  ['remove without path', body({ op: 'remove' }), 'noTarget', 'needs a "path"'],
  [
    'remove with null path',
    body({ op: 'Remove', path: null, value: [{ value: 'u' }] }),
    'noTarget',
    'needs a "path"',
  ],
  [
    'invalid path syntax',
    body({ op: 'remove', path: 'emails[type eq "work"' }),
    'invalidPath',
    'Invalid path at position 22',
  ],
  [
    'invalid path syntax in the second op',
    body({ op: 'add', path: 'title', value: 'x' }, { op: 'replace', path: 'a b', value: 1 }),
    'invalidPath',
    'Operations[1].path',
  ],
  ['path not a string', body({ op: 'add', path: 5, value: 'x' }), 'invalidPath', 'must be a string'],
  ['empty path', body({ op: 'add', path: '', value: 'x' }), 'invalidPath', 'empty'],
  ['add without value', body({ op: 'add', path: 'title' }), 'invalidValue', 'needs a "value"'],
  ['replace without value', body({ op: 'replace' }), 'invalidValue', 'needs a "value"'],
  ['path-less add with a string value', body({ op: 'add', value: 'x' }), 'invalidValue', 'must be an object'],
  [
    'path-less add with an array value',
    body({ op: 'add', value: [{ title: 'x' }] }),
    'invalidValue',
    'must be an object',
  ],
  [
    'path-less key that is not a path',
    body({ op: 'add', value: { 'bad key': 1 } }),
    'invalidPath',
    '"bad key"',
  ],
  [
    'container key with a qualified inner key',
    body({ op: 'add', value: { [ENT]: { [`${ENT}:department`]: 'x' } } }),
    'invalidPath',
    'must not carry a schema URI',
  ],
  [
    'container with a non-object',
    body({ op: 'add', value: { [ENT]: 'x' } }),
    'invalidValue',
    'must be an object',
  ],
];

describe('parsePatchRequest: malformed bodies', () => {
  it.each(MALFORMED)('%s → %s', (_label, input, scimType, fragment) => {
    const err = errorOf(() => parsePatchRequest(input));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe(scimType);
    expect(err.detail).toContain(fragment);
  });
});

// --- applyPatch: users ---------------------------------------------------------------------------

const bjensen = deepFreeze({
  schemas: [USER_SCHEMA, ENT],
  id: BABS,
  userName: 'bjensen',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  displayName: 'Babs',
  active: true,
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  addresses: [{ type: 'work', streetAddress: '100 Universal City Plaza', locality: 'Hollywood' }],
  meta: { resourceType: 'User', version: 'W/"1"' },
  [ENT]: { employeeNumber: '701984', manager: { value: 'm1' } },
});

function patchUser(...operations: unknown[]): ScimObject {
  return applyPatch(bjensen, parsePatchRequest(body(...operations)), USER);
}
function without(obj: ScimObject, ...keys: string[]): ScimObject {
  const out = { ...obj };
  for (const k of keys) delete out[k];
  return out;
}

describe('applyPatch: the Entra and Okta dialects', () => {
  it('Entra: Replace active "False" sets the boolean', () => {
    expect(patchUser({ op: 'Replace', path: 'active', value: 'False' })).toEqual({
      ...bjensen,
      active: false,
    });
  });

  it('Entra: path-less replace with name.givenName and an enterprise attribute', () => {
    expect(
      patchUser({ op: 'Replace', value: { 'name.givenName': 'x', [`${ENT}:department`]: 'y' } }),
    ).toEqual({
      ...bjensen,
      name: { givenName: 'x', familyName: 'Jensen' },
      [ENT]: { employeeNumber: '701984', manager: { value: 'm1' }, department: 'y' },
    });
  });

  it('Entra: emails[type eq "work"].value replaces the work address', () => {
    expect(
      patchUser({ op: 'Replace', path: 'emails[type eq "work"].value', value: 'new@example.com' }).emails,
    ).toEqual([
      { value: 'new@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ]);
  });

  it('Entra: add/replace with a type eq filter and no match creates the value', () => {
    expect(
      patchUser({ op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0100' })
        .phoneNumbers,
    ).toEqual([{ type: 'mobile', value: '+1 555 0100' }]);
    expect(patchUser({ op: 'Replace', path: 'emails[type eq "other"].value', value: 'o@x' }).emails).toEqual([
      ...bjensen.emails,
      { type: 'other', value: 'o@x' },
    ]);
    expect(
      patchUser({ op: 'replace', path: 'addresses[type eq "home"]', value: { locality: 'LA' } }).addresses,
    ).toEqual([...bjensen.addresses, { type: 'home', locality: 'LA' }]);
  });

  it('Entra: the manager as a bare id, and its removal', () => {
    expect(patchUser({ op: 'Replace', path: `${ENT}:manager`, value: 'm2' })[ENT]).toEqual({
      employeeNumber: '701984',
      manager: { value: 'm2' },
    });
    expect(patchUser({ op: 'Remove', path: `${ENT}:manager` })[ENT]).toEqual({ employeeNumber: '701984' });
  });

  it('Okta: path-less replace of active', () => {
    expect(patchUser({ op: 'replace', value: { active: false } })).toEqual({ ...bjensen, active: false });
  });

  it('Okta: a readOnly attribute repeated with its current value is ignored', () => {
    expect(patchUser({ op: 'replace', value: { id: BABS, displayName: 'New' } })).toEqual({
      ...bjensen,
      displayName: 'New',
    });
  });
});

describe('applyPatch: add (RFC 7644 §3.5.2.1)', () => {
  it('appends to a multi-valued attribute', () => {
    expect(
      patchUser({ op: 'add', path: 'emails', value: [{ value: 'new@x', type: 'other' }] }).emails,
    ).toEqual([...bjensen.emails, { value: 'new@x', type: 'other' }]);
  });

  it('does not duplicate a value already there (value compared per caseExact)', () => {
    expect(
      patchUser({ op: 'add', path: 'emails', value: [{ value: 'BABS@jensen.org', type: 'home' }] }),
    ).toEqual(bjensen);
    expect(patchUser({ op: 'add', path: 'emails', value: [{ value: 'babs@jensen.org' }] })).toEqual(bjensen);
    // the same address with another type is another value
    expect(
      patchUser({ op: 'add', path: 'emails', value: [{ value: 'babs@jensen.org', type: 'other' }] }).emails,
    ).toEqual([...bjensen.emails, { value: 'babs@jensen.org', type: 'other' }]);
    // a re-added value takes the sub-attributes the client sent
    expect(
      patchUser({ op: 'add', path: 'emails', value: [{ value: 'babs@jensen.org', display: 'Home' }] }).emails,
    ).toEqual([bjensen.emails[0], { value: 'babs@jensen.org', type: 'home', display: 'Home' }]);
  });

  it('a new primary value makes the others non-primary (RFC 7644 §3.5.2)', () => {
    expect(patchUser({ op: 'add', path: 'emails', value: [{ value: 'p@x', primary: true }] }).emails).toEqual(
      [
        { value: 'bjensen@example.com', type: 'work', primary: false },
        { value: 'babs@jensen.org', type: 'home' },
        { value: 'p@x', primary: true },
      ],
    );
    expect(patchUser({ op: 'replace', path: 'emails[type eq "home"].primary', value: true }).emails).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: false },
      { value: 'babs@jensen.org', type: 'home', primary: true },
    ]);
  });

  it('replaces a single-valued attribute and merges into a complex one', () => {
    expect(patchUser({ op: 'add', path: 'displayName', value: 'B' }).displayName).toBe('B');
    expect(patchUser({ op: 'add', path: 'name', value: { middleName: 'Jane' } }).name).toEqual({
      givenName: 'Barbara',
      familyName: 'Jensen',
      middleName: 'Jane',
    });
    expect(patchUser({ op: 'add', path: 'nickName', value: 'Babs' }).nickName).toBe('Babs');
  });

  it('merges into the values a filter selects', () => {
    expect(
      patchUser({ op: 'add', path: 'addresses[type eq "work"]', value: { postalCode: '91608' } }).addresses,
    ).toEqual([
      { type: 'work', streetAddress: '100 Universal City Plaza', locality: 'Hollywood', postalCode: '91608' },
    ]);
  });

  it('the RFC path-less add example', () => {
    expect(
      patchUser({
        op: 'add',
        value: { emails: [{ value: 'babs2@jensen.org', type: 'home' }], nickname: 'Babs' },
      }),
    ).toEqual({
      ...bjensen,
      emails: [...bjensen.emails, { value: 'babs2@jensen.org', type: 'home' }],
      nickName: 'Babs',
    });
  });

  it('adding nothing (null or []) changes nothing', () => {
    expect(patchUser({ op: 'add', path: 'emails', value: [] })).toEqual(bjensen);
    expect(patchUser({ op: 'add', path: 'title', value: null })).toEqual(bjensen);
  });

  it('creates the extension object and lists it in schemas', () => {
    const plain = deepFreeze({ schemas: [USER_SCHEMA], id: 'u', userName: 'u' });
    expect(
      applyPatch(plain, parsePatchRequest(body({ op: 'add', path: `${ENT}:department`, value: 'D' })), USER),
    ).toEqual({
      schemas: [USER_SCHEMA, ENT],
      id: 'u',
      userName: 'u',
      [ENT]: { department: 'D' },
    });
  });
});

describe('applyPatch: replace (RFC 7644 §3.5.2.3)', () => {
  it('replaces a multi-valued attribute whole', () => {
    expect(patchUser({ op: 'replace', path: 'emails', value: [{ value: 'only@x' }] }).emails).toEqual([
      { value: 'only@x' },
    ]);
  });

  it('leaves unspecified sub-attributes of a complex attribute unchanged', () => {
    expect(patchUser({ op: 'replace', path: 'name', value: { givenName: 'B' } }).name).toEqual({
      givenName: 'B',
      familyName: 'Jensen',
    });
  });

  it('replaces the values a filter selects, whole', () => {
    expect(
      patchUser({
        op: 'replace',
        path: 'addresses[type eq "work"]',
        value: { type: 'work', streetAddress: '911 Universal City Plaza' },
      }).addresses,
    ).toEqual([{ type: 'work', streetAddress: '911 Universal City Plaza' }]);
  });

  it('replaces a sub-attribute of the values a filter selects', () => {
    expect(
      patchUser({
        op: 'replace',
        path: 'addresses[type eq "work"].streetAddress',
        value: '1010 Broadway Ave',
      }).addresses,
    ).toEqual([{ type: 'work', streetAddress: '1010 Broadway Ave', locality: 'Hollywood' }]);
  });

  it('a sub-attribute path without a filter sets it on every value', () => {
    expect(patchUser({ op: 'replace', path: 'emails.type', value: 'other' }).emails).toEqual([
      { value: 'bjensen@example.com', type: 'other', primary: true },
      { value: 'babs@jensen.org', type: 'other' },
    ]);
  });

  it('no match for a filter that is not a plain equality → noTarget', () => {
    const err = errorOf(() =>
      patchUser({ op: 'replace', path: 'emails[value co "nowhere"].value', value: 'x@y' }),
    );
    expect(err.scimType).toBe('noTarget');
    expect(err.status).toBe(400);
  });

  it('replace with null unassigns', () => {
    expect(patchUser({ op: 'replace', path: 'displayName', value: null })).toEqual(
      without(bjensen, 'displayName'),
    );
    expect(patchUser({ op: 'replace', path: 'emails', value: [] })).toEqual(without(bjensen, 'emails'));
  });

  it('applies operations in order', () => {
    expect(
      patchUser(
        { op: 'replace', path: 'displayName', value: 'One' },
        { op: 'replace', path: 'displayName', value: 'Two' },
      ).displayName,
    ).toBe('Two');
    expect(
      patchUser({ op: 'remove', path: 'emails' }, { op: 'add', path: 'emails', value: { value: 'n@x' } })
        .emails,
    ).toEqual([{ value: 'n@x' }]);
  });
});

describe('applyPatch: remove (RFC 7644 §3.5.2.2)', () => {
  it('removes attributes, sub-attributes and filtered values', () => {
    expect(patchUser({ op: 'remove', path: 'emails' })).toEqual(without(bjensen, 'emails'));
    expect(patchUser({ op: 'remove', path: 'name.givenName' }).name).toEqual({ familyName: 'Jensen' });
    expect(
      patchUser({ op: 'remove', path: 'name.givenName' }, { op: 'remove', path: 'name.familyName' }),
    ).toEqual(without(bjensen, 'name'));
    expect(patchUser({ op: 'remove', path: 'emails[type eq "home"]' }).emails).toEqual([bjensen.emails[0]]);
    expect(patchUser({ op: 'remove', path: 'emails[type eq "work"].primary' }).emails).toEqual([
      { value: 'bjensen@example.com', type: 'work' },
      { value: 'babs@jensen.org', type: 'home' },
    ]);
    expect(
      patchUser({ op: 'remove', path: 'emails', value: [{ value: 'BJENSEN@example.com' }] }).emails,
    ).toEqual([bjensen.emails[1]]);
  });

  it('is a no-op when nothing matches (idempotent retries)', () => {
    expect(patchUser({ op: 'remove', path: 'emails[type eq "other"]' })).toEqual(bjensen);
    expect(patchUser({ op: 'remove', path: 'nickName' })).toEqual(bjensen);
    expect(patchUser({ op: 'remove', path: 'phoneNumbers[type eq "work"].value' })).toEqual(bjensen);
  });

  it('removing the last extension attribute drops the extension and its schema URI', () => {
    expect(
      patchUser(
        { op: 'remove', path: `${ENT}:employeeNumber` },
        { op: 'remove', path: `${ENT}:manager.value` },
      ),
    ).toEqual({
      ...without(bjensen, ENT),
      schemas: [USER_SCHEMA],
    });
    expect(patchUser({ op: 'remove', path: ENT })).toEqual({
      ...without(bjensen, ENT),
      schemas: [USER_SCHEMA],
    });
  });

  it('replaces a whole extension given as the path', () => {
    expect(patchUser({ op: 'replace', path: ENT, value: { department: 'D' } })[ENT]).toEqual({
      employeeNumber: '701984',
      manager: { value: 'm1' },
      department: 'D',
    });
  });
});

describe("applyPatch: an extension's whole value with a schemas member (RFC 7643 §3)", () => {
  const START = { employeeNumber: '701984', manager: { value: 'm1' } };
  const mixed = ENT.replace('enterprise', 'Enterprise');
  it.each([
    [
      'add, path = URN',
      { op: 'add', path: ENT, value: { schemas: [ENT], department: 'X' } },
      { department: 'X' },
    ],
    [
      'replace, path = URN',
      { op: 'replace', path: ENT, value: { schemas: [ENT], department: 'Y' } },
      { department: 'Y' },
    ],
    [
      'schemas as a bare string',
      { op: 'add', path: ENT, value: { schemas: ENT, department: 'S' } },
      { department: 'S' },
    ],
    [
      'SCHEMAS in other case, URN in other case',
      { op: 'add', path: mixed, value: { SCHEMAS: [mixed], department: 'M' } },
      { department: 'M' },
    ],
    ['only schemas: nothing changes', { op: 'add', path: ENT, value: { schemas: [ENT] } }, {}],
    [
      'value-less add',
      { op: 'add', value: { [ENT]: { schemas: [ENT], department: 'V' } } },
      { department: 'V' },
    ],
    [
      'value-less replace',
      { op: 'replace', value: { [ENT]: { schemas: [ENT], department: 'W' } } },
      { department: 'W' },
    ],
  ])('%s', (_label, operation, added) => {
    expect(patchUser(operation)[ENT]).toEqual({ ...START, ...added });
  });

  it.each([
    [
      'an unknown attribute beside schemas is named',
      { op: 'add', path: ENT, value: { schemas: [ENT], favouriteColour: '1' } },
      'invalidPath',
      'favouriteColour',
    ],
    [
      'schemas naming another schema',
      { op: 'add', path: ENT, value: { schemas: [USER_SCHEMA], department: 'X' } },
      'invalidValue',
      USER_SCHEMA,
    ],
    [
      'schemas naming the extension and another',
      { op: 'replace', path: ENT, value: { schemas: [ENT, 'urn:x'] } },
      'invalidValue',
      'urn:x',
    ],
    ['schemas holding a number', { op: 'add', path: ENT, value: { schemas: [7] } }, 'invalidValue', '7'],
    [
      'value-less, schemas naming another schema',
      { op: 'add', value: { [ENT]: { schemas: ['urn:x'] } } },
      'invalidValue',
      'urn:x',
    ],
  ])('%s', (_label, operation, scimType, named) => {
    const error = errorOf(() => patchUser(operation));
    expect(error.scimType).toBe(scimType);
    expect(error.detail).toContain(named);
  });
});

describe('the operation limit and the yielding variants (issue 15)', () => {
  const ops = (n: number) =>
    body(
      ...Array.from({ length: n }, (_, i) => ({ op: 'add', path: 'emails', value: [{ value: `${i}@x` }] })),
    );

  it.each([
    [1, 1],
    [1_000, 1_000],
  ])('%i operations under a limit of %i are parsed', (n, maxOperations) => {
    expect(parsePatchRequest(ops(n), USER, { maxOperations })).toHaveLength(n);
  });

  it.each([
    [2, 1],
    [1_001, 1_000],
  ])('%i operations over a limit of %i are 400 tooMany, naming both', (n, maxOperations) => {
    const error = errorOf(() => parsePatchRequest(ops(n), USER, { maxOperations }));
    expect(error.scimType).toBe('tooMany');
    expect(error.detail).toContain(`has ${n} operations`);
    expect(error.detail).toContain(`at most ${maxOperations}`);
  });

  it('the yielding parse and apply give what the plain ones give', async () => {
    const request = ops(650);
    const plain = applyPatch(bjensen, parsePatchRequest(request, USER), USER);
    const operations = await parsePatchRequestYielding(request, USER);
    expect(operations).toEqual(parsePatchRequest(request, USER));
    expect(await applyPatchYielding(bjensen, operations, USER)).toEqual(plain);
  });

  it('the yielding variants refuse what the plain ones refuse', async () => {
    await expect(parsePatchRequestYielding(ops(3), USER, { maxOperations: 2 })).rejects.toMatchObject({
      scimType: 'tooMany',
    });
    const bad = parsePatchRequest(body({ op: 'remove', path: 'userName' }), USER);
    await expect(applyPatchYielding(bjensen, bad, USER)).rejects.toMatchObject({ scimType: 'invalidValue' });
  });
});

describe('applyPatch: many adds to one attribute (values found by key, patch-index.ts)', () => {
  const start = { schemas: [USER_SCHEMA], userName: 'u' };
  const adds = (...values: unknown[]) =>
    values.map((value) => ({ op: 'add', path: 'emails', value: [value] }));
  const apply = (...operations: unknown[]) =>
    applyPatch(start, parsePatchRequest(body(...operations)), USER).emails;

  it.each([
    [
      'new values are appended in order',
      adds({ value: 'a@x' }, { value: 'b@x' }),
      [{ value: 'a@x' }, { value: 'b@x' }],
    ],
    [
      'the same value in other case is not added twice',
      adds({ value: 'a@x' }, { value: 'A@X' }),
      [{ value: 'a@x' }],
    ],
    [
      'a repeated value takes the sub-attributes sent',
      adds({ value: 'a@x' }, { value: 'a@x', type: 'work' }),
      [{ value: 'a@x', type: 'work' }],
    ],
    [
      'the same value with another type is another value',
      adds({ value: 'a@x', type: 'work' }, { value: 'a@x', type: 'home' }),
      [
        { value: 'a@x', type: 'work' },
        { value: 'a@x', type: 'home' },
      ],
    ],
    [
      'a later primary takes over from an earlier one',
      adds({ value: 'a@x', primary: true }, { value: 'b@x' }, { value: 'c@x', primary: true }),
      [{ value: 'a@x', primary: false }, { value: 'b@x' }, { value: 'c@x', primary: true }],
    ],
    [
      'a remove between adds is seen by the next add',
      [
        ...adds({ value: 'a@x' }, { value: 'b@x' }),
        { op: 'remove', path: 'emails[value eq "a@x"]' },
        ...adds({ value: 'A@x' }, { value: 'b@X' }),
      ],
      [{ value: 'b@x' }, { value: 'A@x' }],
    ],
    [
      'a replace between adds starts a new list',
      [
        ...adds({ value: 'a@x' }),
        { op: 'replace', path: 'emails', value: [{ value: 'z@x' }] },
        ...adds({ value: 'z@X' }, { value: 'a@x' }),
      ],
      [{ value: 'z@x' }, { value: 'a@x' }],
    ],
  ])('%s', (_label, operations, expected) => {
    expect(apply(...operations)).toEqual(expected);
  });

  it('3,000 adds of 1,500 values (one already there in other case) keep each value once', () => {
    const operations = adds(...Array.from({ length: 3_000 }, (_, i) => ({ value: `${i % 1_500}@x` })));
    const frozen = deepFreeze({ ...start, emails: [{ value: '0@X' }] });
    const emails = applyPatch(frozen, parsePatchRequest(body(...operations)), USER).emails as {
      value: string;
    }[];
    expect(emails.map((e) => e.value)).toEqual([
      '0@X',
      ...Array.from({ length: 1_499 }, (_, i) => `${i + 1}@x`),
    ]);
  });
});

describe('applyPatch: errors', () => {
  it.each([
    [
      'remove of a required attribute',
      { op: 'remove', path: 'userName' },
      'invalidValue',
      'userName is required',
    ],
    [
      'replace of a required attribute with null',
      { op: 'replace', path: 'userName', value: null },
      'invalidValue',
      'userName is required',
    ],
    ['changing the id', { op: 'replace', path: 'id', value: 'other' }, 'mutability', 'readOnly'],
    ['removing the id', { op: 'remove', path: 'id' }, 'mutability', 'readOnly'],
    ['adding groups', { op: 'add', path: 'groups', value: [{ value: 'g1' }] }, 'mutability', 'readOnly'],
    [
      'changing meta.version',
      { op: 'replace', path: 'meta.version', value: 'W/"2"' },
      'mutability',
      'readOnly',
    ],
    [
      'setting manager.displayName',
      { op: 'add', path: `${ENT}:manager.displayName`, value: 'M' },
      'mutability',
      'readOnly',
    ],
    [
      'unknown attribute',
      { op: 'add', path: 'favouriteColour', value: 'blue' },
      'invalidPath',
      'does not name an attribute',
    ],
    [
      'unknown sub-attribute',
      { op: 'add', path: 'name.nick', value: 'x' },
      'invalidPath',
      'does not name an attribute',
    ],
    [
      'unknown sub-attribute after a filter',
      { op: 'add', path: 'emails[type eq "work"].label', value: 'x' },
      'invalidPath',
      'no sub-attribute "label"',
    ],
    [
      'unknown schema',
      { op: 'add', path: 'urn:example:nope:1.0:Thing:x', value: 1 },
      'invalidPath',
      'schema',
    ],
    [
      'extension attribute without its URN',
      { op: 'add', path: 'department', value: 'x' },
      'invalidPath',
      'does not name an attribute',
    ],
    [
      'filter on a single-valued attribute',
      { op: 'replace', path: 'userName[value eq "x"]', value: 'y' },
      'invalidPath',
      'multi-valued',
    ],
    [
      'boolean that is not one',
      { op: 'replace', path: 'active', value: 'maybe' },
      'invalidValue',
      'active must be a boolean',
    ],
    [
      'string expected',
      { op: 'replace', path: 'userName', value: 5 },
      'invalidValue',
      'userName must be a string',
    ],
    [
      'filtered sub-attribute type',
      { op: 'replace', path: 'emails[type eq "work"].value', value: 5 },
      'invalidValue',
      'emails[type eq "work"].value must be a string',
    ],
    [
      'element type',
      { op: 'add', path: 'emails', value: [{ value: 'a@x' }, { value: false }] },
      'invalidValue',
      'emails[1].value must be a string',
    ],
    [
      'two primaries added',
      {
        op: 'add',
        path: 'emails',
        value: [
          { value: 'a@x', primary: true },
          { value: 'b@x', primary: true },
        ],
      },
      'invalidValue',
      'primary',
    ],
    [
      'primary on every value',
      { op: 'replace', path: 'emails.primary', value: true },
      'invalidValue',
      'primary',
    ],
    ['path-less add of a non-object', { op: 'add', value: 'x' }, 'invalidValue', 'must be an object'],
  ])('%s → %s', (_label, operation, scimType, fragment) => {
    const err = errorOf(() => patchUser(operation));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe(scimType);
    expect(err.detail).toContain(fragment);
  });

  it('is all-or-nothing and never modifies its input', () => {
    const input = structuredClone(bjensen) as ScimObject;
    const ops = parsePatchRequest(
      body({ op: 'replace', path: 'displayName', value: 'X' }, { op: 'remove', path: 'userName' }),
    );
    expect(() => applyPatch(input, ops, USER)).toThrow(ScimError);
    expect(input).toEqual(bjensen);
    // the frozen fixture would throw on any in-place write
    expect(() =>
      patchUser({ op: 'replace', path: 'emails[type eq "work"].value', value: 'z@x' }),
    ).not.toThrow();
  });

  it('remove without a path given directly to applyPatch → noTarget', () => {
    expect(errorOf(() => applyPatch(bjensen, [{ op: 'remove' }], USER)).scimType).toBe('noTarget');
  });
});

// --- applyPatch: groups and immutable sub-attributes ---------------------------------------------

const tourGuides = deepFreeze({
  schemas: [GROUP_SCHEMA],
  id: 'g1',
  displayName: 'Tour Guides',
  members: [
    { value: 'u1', display: 'Babs Jensen', type: 'User' },
    { value: 'u2', type: 'User' },
  ],
});
function patchGroup(...operations: unknown[]): ScimObject {
  return applyPatch(tourGuides, parsePatchRequest(body(...operations)), GROUP);
}

describe('applyPatch: groups', () => {
  it('adds members without duplicates', () => {
    expect(
      patchGroup({
        op: 'add',
        path: 'members',
        value: [{ value: 'u3' }, { value: 'u1', display: 'Other name' }],
      }).members,
    ).toEqual([...tourGuides.members, { value: 'u3' }]);
  });

  it('removes members by filter and by value list', () => {
    expect(patchGroup({ op: 'remove', path: 'members[value eq "u1"]' }).members).toEqual([
      tourGuides.members[1],
    ]);
    expect(
      patchGroup({ op: 'remove', path: 'members', value: [{ value: 'u2' }, { value: 'u9' }] }).members,
    ).toEqual([tourGuides.members[0]]);
    expect(patchGroup({ op: 'remove', path: 'members' })).toEqual(without(tourGuides, 'members'));
  });

  it('replaces the member list and renames (Okta)', () => {
    expect(patchGroup({ op: 'replace', path: 'members', value: [{ value: 'u7' }] }).members).toEqual([
      { value: 'u7' },
    ]);
    expect(patchGroup({ op: 'replace', value: { id: 'g1', displayName: 'Guides' } })).toEqual({
      ...tourGuides,
      displayName: 'Guides',
    });
  });

  it('immutable sub-attributes may be set when empty but not changed (RFC 7644 §3.5.2)', () => {
    expect(patchGroup({ op: 'add', path: 'members[value eq "u2"].display', value: 'Mandy' }).members).toEqual(
      [tourGuides.members[0], { value: 'u2', type: 'User', display: 'Mandy' }],
    );
    expect(
      patchGroup({ op: 'replace', path: 'members[value eq "u1"].display', value: 'Babs Jensen' }),
    ).toEqual(tourGuides);
    const changed = errorOf(() =>
      patchGroup({ op: 'replace', path: 'members[value eq "u1"].value', value: 'u9' }),
    );
    expect(changed.scimType).toBe('mutability');
    const removed = errorOf(() => patchGroup({ op: 'remove', path: 'members[value eq "u1"].display' }));
    expect(removed.scimType).toBe('mutability');
    const replacedWhole = errorOf(() =>
      patchGroup({ op: 'replace', path: 'members[value eq "u1"]', value: { value: 'u5' } }),
    );
    expect(replacedWhole.scimType).toBe('mutability');
  });
});

describe('applyPatch: required sub-attributes', () => {
  const badgeSchema: SchemaDefinition = {
    id: 'urn:example:scim:schemas:Badge',
    name: 'Badge',
    description: '',
    attributes: [
      {
        name: 'badges',
        type: 'complex',
        multiValued: true,
        description: '',
        required: false,
        caseExact: false,
        mutability: 'readWrite',
        returned: 'default',
        uniqueness: 'none',
        subAttributes: (['value', 'type', 'display'] as const).map((name) => ({
          name,
          type: 'string' as const,
          multiValued: false,
          description: '',
          required: name === 'value',
          caseExact: false,
          mutability: 'readWrite' as const,
          returned: 'default' as const,
          uniqueness: 'none' as const,
        })),
      },
    ],
  };
  const shape: ResourceShape = { coreSchema: badgeSchema, extensions: [] };
  const resource = deepFreeze({ schemas: [badgeSchema.id], badges: [{ value: 'b1', type: 'a' }] });
  const run = (op: unknown) => applyPatch(resource, parsePatchRequest(body(op), shape), shape);

  it('are checked after an add merges into the selected value', () => {
    expect(run({ op: 'add', path: 'badges[type eq "a"]', value: { display: 'A' } }).badges).toEqual([
      { value: 'b1', type: 'a', display: 'A' },
    ]);
  });

  it('are required of a value that replaces a selected one, or that a filter creates', () => {
    expect(
      errorOf(() => run({ op: 'replace', path: 'badges[type eq "a"]', value: { display: 'A' } })).detail,
    ).toContain('value is required');
    expect(
      errorOf(() => run({ op: 'add', path: 'badges[type eq "z"].display', value: 'Z' })).detail,
    ).toContain('value is required');
    expect(errorOf(() => run({ op: 'add', path: 'badges', value: [{ type: 'q' }] })).scimType).toBe(
      'invalidValue',
    );
  });
});

describe('parse + apply: properties', () => {
  it('any JSON body gives operations or a 400 ScimError, and applying them never throws anything else', () => {
    const opArb = fc.record(
      {
        op: fc.constantFrom('add', 'Replace', 'remove', 'move'),
        path: fc.constantFrom(
          'emails',
          'emails[type eq "work"].value',
          'name.givenName',
          'active',
          'members',
          'id',
          `${ENT}:manager`,
          ENT,
          'x y',
        ),
        value: fc.jsonValue(),
      },
      { requiredKeys: ['op'] },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.array(opArb, { minLength: 1, maxLength: 4 }).map((ops) => body(...ops)),
        ),
        (input) => {
          try {
            const ops = parsePatchRequest(input);
            applyPatch(bjensen, ops, USER);
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

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScimError } from '../../../src/scim/errors.ts';
import { parseAttributePath, parseFilter, parsePatchPath } from '../../../src/scim/filter.ts';
import type {
  AttributePath,
  CompareOperator,
  FilterNode,
  FilterValue,
  PatchPath,
} from '../../../src/scim/filter-ast.ts';
import { formatFilter } from '../../../src/scim/filter-ast.ts';
import { matchesValue } from '../../../src/scim/filter-eval.ts';
import type { AttributeDefinition } from '../../../src/scim/schema-types.ts';

// --- AST builders (hand-written expectations) -------------------------------------------------

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

function path(text: string): AttributePath {
  // test helper: "a", "a.b", "urn:...:a.b" written out by hand in the tables below
  const colon = text.lastIndexOf(':');
  const schema = colon === -1 ? undefined : text.slice(0, colon);
  const rest = colon === -1 ? text : text.slice(colon + 1);
  const [attribute, subAttribute] = rest.split('.') as [string, string | undefined];
  const p: AttributePath = { attribute };
  if (schema !== undefined) p.schema = schema;
  if (subAttribute !== undefined) p.subAttribute = subAttribute;
  return p;
}
const cmp = (p: string, operator: CompareOperator, value: FilterValue): FilterNode => ({
  type: 'compare',
  path: path(p),
  operator,
  value,
});
const pr = (p: string): FilterNode => ({ type: 'present', path: path(p) });
const and = (left: FilterNode, right: FilterNode): FilterNode => ({ type: 'and', left, right });
const or = (left: FilterNode, right: FilterNode): FilterNode => ({ type: 'or', left, right });
const not = (filter: FilterNode): FilterNode => ({ type: 'not', filter });
const vp = (p: string, filter: FilterNode): FilterNode => ({ type: 'valuePath', path: path(p), filter });

function errorOf(run: () => unknown): ScimError {
  try {
    run();
  } catch (err) {
    if (err instanceof ScimError) return err;
    throw new Error(`expected a ScimError, got ${String(err)}`);
  }
  throw new Error('expected an error, got a result');
}

// --- Valid filters ------------------------------------------------------------------------------

const VALID: [string, FilterNode][] = [
  // RFC 7644 §3.4.2.2 examples
  ['userName eq "bjensen"', cmp('userName', 'eq', 'bjensen')],
  ['name.familyName co "O\'Malley"', cmp('name.familyName', 'co', "O'Malley")],
  ['userName sw "J"', cmp('userName', 'sw', 'J')],
  [`${CORE_USER}:userName sw "J"`, cmp(`${CORE_USER}:userName`, 'sw', 'J')],
  ['title pr', pr('title')],
  ['meta.lastModified gt "2011-05-13T04:42:34Z"', cmp('meta.lastModified', 'gt', '2011-05-13T04:42:34Z')],
  ['meta.lastModified ge "2011-05-13T04:42:34Z"', cmp('meta.lastModified', 'ge', '2011-05-13T04:42:34Z')],
  ['meta.lastModified lt "2011-05-13T04:42:34Z"', cmp('meta.lastModified', 'lt', '2011-05-13T04:42:34Z')],
  ['meta.lastModified le "2011-05-13T04:42:34Z"', cmp('meta.lastModified', 'le', '2011-05-13T04:42:34Z')],
  ['title pr and userType eq "Employee"', and(pr('title'), cmp('userType', 'eq', 'Employee'))],
  ['title pr or userType eq "Intern"', or(pr('title'), cmp('userType', 'eq', 'Intern'))],
  [`schemas eq "${ENTERPRISE}"`, cmp('schemas', 'eq', ENTERPRISE)],
  [
    'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
    and(
      cmp('userType', 'eq', 'Employee'),
      or(cmp('emails', 'co', 'example.com'), cmp('emails.value', 'co', 'example.org')),
    ),
  ],
  [
    'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
    and(
      cmp('userType', 'ne', 'Employee'),
      not(or(cmp('emails', 'co', 'example.com'), cmp('emails.value', 'co', 'example.org'))),
    ),
  ],
  [
    'userType eq "Employee" and (emails.type eq "work")',
    and(cmp('userType', 'eq', 'Employee'), cmp('emails.type', 'eq', 'work')),
  ],
  [
    'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
    and(
      cmp('userType', 'eq', 'Employee'),
      vp('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'co', '@example.com'))),
    ),
  ],
  [
    'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
    or(
      vp('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'co', '@example.com'))),
      vp('ims', and(cmp('type', 'eq', 'xmpp'), cmp('value', 'co', '@foo.com'))),
    ),
  ],
  // precedence: not > and > or; and/or associate to the left
  ['a pr or b pr and c pr', or(pr('a'), and(pr('b'), pr('c')))],
  ['a pr and b pr or c pr', or(and(pr('a'), pr('b')), pr('c'))],
  ['a pr and b pr and c pr', and(and(pr('a'), pr('b')), pr('c'))],
  ['a pr or b pr or c pr', or(or(pr('a'), pr('b')), pr('c'))],
  ['a pr and (b pr or c pr)', and(pr('a'), or(pr('b'), pr('c')))],
  ['not (a pr) and b pr', and(not(pr('a')), pr('b'))],
  ['not(a pr)', not(pr('a'))],
  ['not (not (a pr))', not(not(pr('a')))],
  ['((a pr))', pr('a')],
  // case-insensitive keywords and operators
  ['NOT (a PR) AND b EQ 1 OR c Eq FALSE', or(and(not(pr('a')), cmp('b', 'eq', 1)), cmp('c', 'eq', false))],
  ['userName Sw "j"', cmp('userName', 'sw', 'j')],
  // literals
  ['active eq true', cmp('active', 'eq', true)],
  ['active ne False', cmp('active', 'ne', false)],
  ['manager eq null', cmp('manager', 'eq', null)],
  ['x eq 0', cmp('x', 'eq', 0)],
  ['x gt -1.5e-3', cmp('x', 'gt', -0.0015)],
  ['x le 12.25', cmp('x', 'le', 12.25)],
  ['x lt 1E+2', cmp('x', 'lt', 100)],
  ['displayName eq ""', cmp('displayName', 'eq', '')],
  [
    'displayName eq "a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20AC"',
    cmp('displayName', 'eq', 'a"b\\c/d\b\f\n\r\té€'),
  ],
  ['displayName eq "with ) and ] inside"', cmp('displayName', 'eq', 'with ) and ] inside')],
  ['displayName eq "日本語"', cmp('displayName', 'eq', '日本語')],
  // names: digits, dash, underscore, $ref; an attribute called "not"
  ['x-1_y pr', pr('x-1_y')],
  [
    'members[$ref eq "https://example.com/v2/Users/1"]',
    vp('members', cmp('$ref', 'eq', 'https://example.com/v2/Users/1')),
  ],
  ['not eq "x"', cmp('not', 'eq', 'x')],
  // schema URNs containing dots, with sub-attributes
  [
    `${ENTERPRISE}:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`,
    cmp(`${ENTERPRISE}:manager.value`, 'eq', '26118915-6090-4610-87e4-49d8ca9f808d'),
  ],
  [`${ENTERPRISE}:employeeNumber pr`, pr(`${ENTERPRISE}:employeeNumber`)],
  // Entra's malformed enterprise URN still splits at the last colon
  [
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0User:employeeNumber eq "1"',
    cmp('urn:ietf:params:scim:schemas:extension:enterprise:2.0User:employeeNumber', 'eq', '1'),
  ],
  // value paths
  ['emails[not (type eq "work")]', vp('emails', not(cmp('type', 'eq', 'work')))],
  [
    'emails[(type eq "work" or type eq "home") and primary eq true]',
    vp('emails', and(or(cmp('type', 'eq', 'work'), cmp('type', 'eq', 'home')), cmp('primary', 'eq', true))),
  ],
  [`${CORE_USER}:emails[value pr]`, vp(`${CORE_USER}:emails`, pr('value'))],
  // whitespace tolerance
  ['  userName   eq\t"x"\n', cmp('userName', 'eq', 'x')],
  ['(a pr)and(b pr)', and(pr('a'), pr('b'))],
  // Entra ID: unquoted literals
  ['externalId eq jyoung', cmp('externalId', 'eq', 'jyoung')],
  ['userName eq alice@example.com', cmp('userName', 'eq', 'alice@example.com')],
  [
    'userName eq alice@example.com and active eq True',
    and(cmp('userName', 'eq', 'alice@example.com'), cmp('active', 'eq', true)),
  ],
  ['(externalId eq 42)', cmp('externalId', 'eq', 42)],
  ['employeeNumber eq 0123', cmp('employeeNumber', 'eq', '0123')],
  ['x eq 1.2.3', cmp('x', 'eq', '1.2.3')],
  ['emails[value eq a@b.c]', vp('emails', cmp('value', 'eq', 'a@b.c'))],
  // Entra ID: valuePath followed by .sub and a comparison, rewritten into the brackets
  [
    'emails[type eq "work"].value eq "x@example.com"',
    vp('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'eq', 'x@example.com'))),
  ],
  [
    'emails[type eq "work"].value pr or userName eq "a"',
    or(vp('emails', and(cmp('type', 'eq', 'work'), pr('value'))), cmp('userName', 'eq', 'a')),
  ],
];

describe('parseFilter: valid filters', () => {
  it.each(VALID)('%s', (text, expected) => {
    expect(parseFilter(text)).toEqual(expected);
  });
});

// --- Malformed filters: [input, 1-based position, fragment of the detail] ---------------------

const MALFORMED: [string, number | undefined, string][] = [
  [
    'userName blah "x"',
    10,
    'expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after "userName"',
  ],
  ['userName', 9, 'expected a comparison operator'],
  ['userName eq', 12, 'expected a value after "eq"'],
  ['userName eq )', 13, 'expected a value'],
  ['userName eq "abc', 13, 'unterminated string'],
  ['userName eq "a\\x"', 15, 'invalid escape'],
  ['userName eq "\\u12"', 14, 'four hex digits'],
  ['a eq "\u0001"', 7, 'control characters'],
  ['(userName pr', 13, 'expected ")" to close the "(" at position 1'],
  ['userName pr)', 12, 'unbalanced ")"'],
  ['userName pr]', 12, 'unbalanced "]"'],
  ['emails[type eq "work"', 22, 'expected "]" to close the "[" at position 7'],
  ['emails[type[value eq "x"]]', 12, 'cannot be nested'],
  ['name.givenName[value pr]', 1, 'must follow an attribute name'],
  ['a.b.c pr', 4, 'at most one sub-attribute'],
  ['a. pr', 3, 'expected a sub-attribute name'],
  ['1abc pr', 1, 'invalid character "1"'],
  ['us$er pr', 3, 'invalid character "$"'],
  ['urn:foo pr', 1, 'expected a schema URN'],
  ['foo:bar pr', 1, 'expected a schema URN'],
  [`${ENTERPRISE}: pr`, ENTERPRISE.length + 2, 'expected an attribute name after the schema URN'],
  ['not userName pr', 5, 'expected a comparison operator'],
  ['a gt true', 6, 'operator "gt" cannot compare with true'],
  ['a le false', 6, 'cannot compare with false'],
  ['a co null', 6, 'cannot compare with null'],
  ['a sw true', 6, 'cannot compare with true'],
  ['a pr b pr', 6, 'expected "and", "or" or the end of the filter'],
  ['a pr and', 9, 'expected an attribute path'],
  ['a pr and not', 13, 'expected a comparison operator'],
  ['a eq 1 or', 10, 'expected an attribute path'],
  ['a eq "x" and (', 15, 'expected an attribute path'],
  ['a eq 1e999', 6, 'out of range'],
  ['[a pr]', 1, 'expected an attribute path'],
  ['()', 2, 'expected an attribute path'],
  ['a pr andb pr', 6, 'expected "and", "or" or the end'],
  ['a eq alice"x"', 11, 'expected "and", "or" or the end'],
  ['a eq "x"y', 9, 'expected "and", "or" or the end'],
  ['a prx', 3, 'expected a comparison operator'],
  ['emails[type eq "work"].', 24, 'expected a sub-attribute name'],
  ['emails[type eq "work"].value', 29, 'expected a comparison operator'],
  ['', undefined, 'empty'],
  ['   ', undefined, 'empty'],
];

describe('parseFilter: malformed filters', () => {
  it.each(MALFORMED)('%j fails at %s', (text, position, fragment) => {
    const err = errorOf(() => parseFilter(text));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidFilter');
    if (position !== undefined)
      expect(err.detail).toMatch(new RegExp(`^Invalid filter at position ${position}: `));
    expect(err.detail).toContain(fragment);
  });

  it('rejects non-string input without throwing anything else', () => {
    expect(errorOf(() => parseFilter(42 as unknown as string)).scimType).toBe('invalidFilter');
  });

  it('enforces maxLength', () => {
    const text = `userName eq "${'x'.repeat(100)}"`;
    expect(() => parseFilter(text, { maxLength: 200 })).not.toThrow();
    const err = errorOf(() => parseFilter(text, { maxLength: 50 }));
    expect(err.scimType).toBe('invalidFilter');
    expect(err.detail).toContain('the limit is 50');
    expect(errorOf(() => parseFilter(`a eq "${'x'.repeat(4100)}"`)).detail).toContain('the limit is 4096');
  });

  it('enforces maxDepth over parentheses, not and brackets', () => {
    const nested = (n: number) => `${'('.repeat(n)}a pr${')'.repeat(n)}`;
    expect(parseFilter(nested(32))).toEqual(pr('a'));
    expect(errorOf(() => parseFilter(nested(33))).detail).toContain('nesting deeper than 32');
    expect(parseFilter(nested(3), { maxDepth: 3 })).toEqual(pr('a'));
    expect(errorOf(() => parseFilter(nested(4), { maxDepth: 3 })).detail).toContain('deeper than 3');
    const nots = (n: number) => `${'not ('.repeat(n)}a pr${')'.repeat(n)}`;
    expect(errorOf(() => parseFilter(nots(3), { maxDepth: 2 })).detail).toContain('deeper than 2');
    // the bracket counts as a level
    expect(errorOf(() => parseFilter('((emails[value pr]))', { maxDepth: 2 })).detail).toContain(
      'deeper than 2',
    );
    expect(parseFilter('((emails[value pr]))', { maxDepth: 3 })).toEqual(vp('emails', pr('value')));
  });
});

// --- Paths --------------------------------------------------------------------------------------

describe('parseAttributePath', () => {
  it.each([
    ['userName', { attribute: 'userName' }],
    ['name.givenName', { attribute: 'name', subAttribute: 'givenName' }],
    [`${ENTERPRISE}:manager`, { schema: ENTERPRISE, attribute: 'manager' }],
    [`${ENTERPRISE}:manager.value`, { schema: ENTERPRISE, attribute: 'manager', subAttribute: 'value' }],
    ['members.$ref', { attribute: 'members', subAttribute: '$ref' }],
    [' displayName ', { attribute: 'displayName' }],
  ] as [string, AttributePath][])('%s', (text, expected) => {
    expect(parseAttributePath(text)).toEqual(expected);
  });

  it.each(['', 'a b', 'emails[type eq "work"]', '9lives', 'a..b', 'a.b.c', 'x:y', 'name.'])(
    'rejects %j',
    (text) => {
      const err = errorOf(() => parseAttributePath(text));
      expect(err.scimType).toBe('invalidPath');
      expect(err.status).toBe(400);
    },
  );
});

describe('parsePatchPath', () => {
  it.each([
    ['members', { path: { attribute: 'members' } }],
    ['name.familyName', { path: { attribute: 'name', subAttribute: 'familyName' } }],
    [
      'members[value eq "2819c223-7f76-453a-919d-413861904646"]',
      {
        path: { attribute: 'members' },
        valueFilter: cmp('value', 'eq', '2819c223-7f76-453a-919d-413861904646'),
      },
    ],
    [
      'emails[type eq "work"].value',
      { path: { attribute: 'emails' }, valueFilter: cmp('type', 'eq', 'work'), subAttribute: 'value' },
    ],
    [
      'addresses[type eq "work"].streetAddress',
      {
        path: { attribute: 'addresses' },
        valueFilter: cmp('type', 'eq', 'work'),
        subAttribute: 'streetAddress',
      },
    ],
    [
      'emails[type eq "work" and value ew "example.com"]',
      {
        path: { attribute: 'emails' },
        valueFilter: and(cmp('type', 'eq', 'work'), cmp('value', 'ew', 'example.com')),
      },
    ],
    [`${ENTERPRISE}:manager`, { path: { schema: ENTERPRISE, attribute: 'manager' } }],
    [
      `${ENTERPRISE}:manager.value`,
      { path: { schema: ENTERPRISE, attribute: 'manager', subAttribute: 'value' } },
    ],
    [
      ENTERPRISE,
      { path: { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0', attribute: 'User' } },
    ],
    [
      'members[value eq jyoung]',
      { path: { attribute: 'members' }, valueFilter: cmp('value', 'eq', 'jyoung') },
    ],
  ] as [string, PatchPath][])('%s', (text, expected) => {
    expect(parsePatchPath(text)).toEqual(expected);
  });

  it.each([
    ['', undefined],
    ['members[value eq "x"', 21],
    ['members[value eq "x"]]', 22],
    ['members[value eq "x"] ', undefined], // trailing space is fine: covered below
    ['emails[type eq "work"].', 24],
    ['emails[type eq "work"].value.x', 29],
    ['emails[type eq "work"]value', 23],
    ['name.givenName[value pr]', 1],
    ['emails[type[value pr]]', 12],
    ['emails[type eq]', 15],
    ['a b', 3],
    ['not (a pr)', 5],
  ] as [string, number | undefined][])('rejects %j (position %s)', (text, position) => {
    if (text === 'members[value eq "x"] ') {
      expect(parsePatchPath(text).path.attribute).toBe('members');
      return;
    }
    const err = errorOf(() => parsePatchPath(text));
    expect(err.scimType).toBe('invalidPath');
    if (position !== undefined)
      expect(err.detail).toMatch(new RegExp(`^Invalid path at position ${position}: `));
  });
});

// --- matchesValue -------------------------------------------------------------------------------

function def(name: string, more: Partial<AttributeDefinition> = {}): AttributeDefinition {
  return {
    name,
    type: 'string',
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

describe('matchesValue', () => {
  const emailDefs = [def('value'), def('type'), def('primary', { type: 'boolean' })];
  const work = { type: 'work', value: 'Bjensen@Example.com', primary: true };
  const cases: [string, unknown, readonly AttributeDefinition[], boolean][] = [
    ['type eq "work"', work, emailDefs, true],
    ['type eq "WORK"', work, emailDefs, true],
    ['TYPE eq "work"', work, emailDefs, true],
    ['type eq "home"', work, emailDefs, false],
    ['type ne "home"', work, emailDefs, true],
    ['type eq "work" and value co "@example.COM"', work, emailDefs, true],
    ['type eq "work" and value sw "bj"', work, emailDefs, true],
    ['value ew ".org"', work, emailDefs, false],
    ['value ew "@EXAMPLE.com"', work, emailDefs, true],
    ['value sw "jensen"', work, emailDefs, false],
    ['value ew "bjensen"', work, emailDefs, false],
    ['type eq "home" or primary eq true', work, emailDefs, true],
    ['not (primary eq true)', work, emailDefs, false],
    ['primary eq true', { value: 'x' }, emailDefs, false],
    ['primary ne true', { value: 'x' }, emailDefs, true],
    ['display pr', work, emailDefs, false],
    ['display pr', { display: '' }, emailDefs, false],
    ['value pr', work, emailDefs, true],
    ['display eq null', work, emailDefs, true],
    ['value eq null', work, emailDefs, false],
    ['value ne null', work, emailDefs, true],
    ['value gt "a"', work, emailDefs, true],
    ['value lt "a"', work, emailDefs, false],
    // caseExact sub-attribute
    ['value eq "abc"', { value: 'ABC' }, [def('value', { caseExact: true })], false],
    ['value eq "ABC"', { value: 'ABC' }, [def('value', { caseExact: true })], true],
    ['value co "b"', { value: 'ABC' }, [def('value', { caseExact: true })], false],
    // numbers and type mismatches
    ['n gt 2', { n: 3 }, [def('n', { type: 'integer' })], true],
    ['n le 2', { n: 3 }, [def('n', { type: 'integer' })], false],
    ['n eq "3"', { n: 3 }, [def('n', { type: 'integer' })], false],
    ['n ne "3"', { n: 3 }, [def('n', { type: 'integer' })], true],
    // an unquoted number against a string attribute compares as text
    ['value eq 42', { value: '42' }, emailDefs, true],
    // dateTime compares instants, not text: 05:00+02:00 is 03:00Z, before 04:00Z
    [
      't gt "2011-05-13T04:00:00Z"',
      { t: '2011-05-13T05:00:00+02:00' },
      [def('t', { type: 'dateTime' })],
      false,
    ],
    [
      't lt "2011-05-13T04:00:00Z"',
      { t: '2011-05-13T05:00:00+02:00' },
      [def('t', { type: 'dateTime' })],
      true,
    ],
    // without a definition the same values compare as text
    ['t gt "2011-05-13T04:00:00Z"', { t: '2011-05-13T05:00:00+02:00' }, [], true],
    // a simple value stands for its own `value`
    ['value eq "x"', 'X', [], true],
    ['value eq "y"', 'X', [], false],
    ['type eq "x"', 'X', [], false],
    // multi-valued operand: any value matches
    ['tags eq "b"', { tags: ['a', 'b'] }, [def('tags', { multiValued: true })], true],
    ['tags ne "b"', { tags: ['a', 'b'] }, [def('tags', { multiValued: true })], false],
  ];
  it.each(cases)('%s on %j → %s', (filter, value, defs, expected) => {
    expect(matchesValue(parseFilter(filter), value, defs)).toBe(expected);
  });
});

// --- Properties ---------------------------------------------------------------------------------

/** Test-only printer, independent of the library's formatFilter. */
function printPath(p: AttributePath): string {
  return `${p.schema ? `${p.schema}:` : ''}${p.attribute}${p.subAttribute ? `.${p.subAttribute}` : ''}`;
}
function printValue(v: FilterValue, unquoted: boolean): string {
  if (typeof v === 'string') {
    const safe = /^[A-Za-z@_][^\s()[\]"]*$/.test(v) && !['true', 'false', 'null'].includes(v.toLowerCase());
    return unquoted && safe ? v : JSON.stringify(v);
  }
  return v === null ? 'null' : typeof v === 'number' ? JSON.stringify(v) : String(v);
}
function print(n: FilterNode, unquoted = false): string {
  switch (n.type) {
    case 'compare':
      return `${printPath(n.path)} ${n.operator} ${printValue(n.value, unquoted)}`;
    case 'present':
      return `${printPath(n.path)} pr`;
    case 'and':
    case 'or':
      return `(${print(n.left, unquoted)} ${n.type} ${print(n.right, unquoted)})`;
    case 'not':
      return `not (${print(n.filter, unquoted)})`;
    case 'valuePath':
      return `${printPath(n.path)}[${print(n.filter, unquoted)}]`;
  }
}

const nameArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,8}$/),
  fc.constantFrom('not', 'and', 'or', 'pr', 'eq', 'value', 'type', '$ref'),
);
const schemaArb = fc.constantFrom(ENTERPRISE, CORE_USER, 'urn:example:ext:v1.2:Thing');
const pathArb: fc.Arbitrary<AttributePath> = fc
  .record({
    schema: fc.option(schemaArb, { nil: undefined }),
    attribute: nameArb,
    subAttribute: fc.option(nameArb, { nil: undefined }),
  })
  .map((r) => {
    const p: AttributePath = { attribute: r.attribute };
    if (r.schema !== undefined) p.schema = r.schema;
    if (r.subAttribute !== undefined) p.subAttribute = r.subAttribute;
    return p;
  });
const simplePathArb: fc.Arbitrary<AttributePath> = nameArb.map((attribute) => ({ attribute }));
const numberArb = fc
  .oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))
  .map((n) => (Object.is(n, -0) ? 0 : n));
const orderedOps = fc.constantFrom<CompareOperator>('eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le');

function leafArb(paths: fc.Arbitrary<AttributePath>): fc.Arbitrary<FilterNode> {
  return fc.oneof(
    fc.record({ path: paths }).map(({ path: p }): FilterNode => ({ type: 'present', path: p })),
    fc
      .record({
        path: paths,
        operator: orderedOps,
        value: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), numberArb),
      })
      .map((r): FilterNode => ({ type: 'compare', ...r })),
    fc
      .record({
        path: paths,
        operator: fc.constantFrom<CompareOperator>('eq', 'ne'),
        value: fc.constantFrom<FilterValue>(true, false, null),
      })
      .map((r): FilterNode => ({ type: 'compare', ...r })),
  );
}

function treeArb(leaf: fc.Arbitrary<FilterNode>, withValuePaths: boolean): fc.Arbitrary<FilterNode> {
  const { node } = fc.letrec<{ node: FilterNode }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({ left: tie('node'), right: tie('node') }).map((r): FilterNode => ({ type: 'and', ...r })),
      fc.record({ left: tie('node'), right: tie('node') }).map((r): FilterNode => ({ type: 'or', ...r })),
      tie('node').map((filter): FilterNode => ({ type: 'not', filter })),
      ...(withValuePaths
        ? [
            fc
              .record({ path: simplePathArb, filter: treeArb(leafArb(simplePathArb), false) })
              .map((r): FilterNode => ({ type: 'valuePath', ...r })),
          ]
        : []),
    ),
  }));
  return node;
}

const filterArb = treeArb(leafArb(pathArb), true);
const BIG = { maxLength: 1_000_000, maxDepth: 1000 };

describe('parseFilter: properties', () => {
  it('(a) any string yields a FilterNode or a 400 invalidFilter, never another exception', () => {
    const alphabet = fc.constantFrom(...'abeqnotrpdsw()[]". \\:.-_$1u0'.split(''));
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: alphabet, maxLength: 60 })),
        (text) => {
          try {
            const node = parseFilter(text);
            expect(typeof node.type).toBe('string');
          } catch (err) {
            expect(err).toBeInstanceOf(ScimError);
            expect((err as ScimError).scimType).toBe('invalidFilter');
            expect((err as ScimError).status).toBe(400);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('(b) printed ASTs parse back to the same AST', () => {
    fc.assert(
      fc.property(filterArb, (ast) => {
        expect(parseFilter(print(ast), BIG)).toEqual(ast);
      }),
      { numRuns: 1500 },
    );
  });

  it('(b) ... also with Entra-style unquoted literals where they are unambiguous', () => {
    fc.assert(
      fc.property(filterArb, (ast) => {
        expect(parseFilter(print(ast, true), BIG)).toEqual(ast);
      }),
      { numRuns: 500 },
    );
  });

  it('(b) the library printer is also an inverse of the parser', () => {
    fc.assert(
      fc.property(filterArb, (ast) => {
        expect(parseFilter(formatFilter(ast), BIG)).toEqual(ast);
      }),
      { numRuns: 500 },
    );
  });

  it('(c) 100k characters of "(" fail fast with invalidFilter, by length or by depth', () => {
    const text = '('.repeat(100_000);
    const byLength = errorOf(() => parseFilter(text));
    expect(byLength.scimType).toBe('invalidFilter');
    expect(byLength.detail).toContain('limit is 4096');
    for (const deep of [text, 'not ('.repeat(20_000), 'a['.repeat(50_000), `${'emails[('.repeat(30_000)}`]) {
      const err = errorOf(() => parseFilter(deep, { maxLength: 1_000_000 }));
      expect(err.scimType).toBe('invalidFilter');
      expect(err.detail).toMatch(/nesting deeper than 32|cannot be nested/);
    }
    // an absurd maxDepth is clamped, so the stack cannot overflow
    const clamped = errorOf(() => parseFilter(text, { maxLength: 1_000_000, maxDepth: 1e9 }));
    expect(clamped.detail).toContain('nesting deeper than 1000');
  });

  it('(d) adversarial 4096-character inputs complete', () => {
    const n = 4096;
    const fill = (unit: string) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
    const inputs = [
      fill('"'),
      fill('\\'),
      `a eq "${fill('\\\\').slice(0, n - 7)}"`,
      `a eq "${fill('\\u').slice(0, n - 6)}`,
      fill('a pr and '),
      `${fill('a pr or ').slice(0, n - 4)}a pr`,
      fill('a.b.c.d'),
      fill('urn:'),
      fill(' '),
      fill('1e1'),
      fill('x eq 1'),
      fill('emails[type eq "w"] and '),
      fill('not ('),
      fill('(a pr) '),
      fill('$'),
      fill('-'),
    ];
    for (const text of inputs) {
      expect(text.length).toBeLessThanOrEqual(n + 8);
      try {
        parseFilter(text, { maxLength: n + 8 });
      } catch (err) {
        expect(err).toBeInstanceOf(ScimError);
      }
    }
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'a (")[]\\n .:-'.split('')), minLength: n, maxLength: n }),
        (text) => {
          try {
            parseFilter(text);
          } catch (err) {
            expect(err).toBeInstanceOf(ScimError);
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});

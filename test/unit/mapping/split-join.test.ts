/**
 * The list transforms: `postalAddress` (lines <-> RFC 4517 §3.3.28 "$"-joined text) and `split`
 * (a multi-valued SCIM string <-> one LDAP value joined by a separator), both directions, malformed
 * values, the mapping checks that guard them, and their filters.
 */
import { describe, expect, it } from 'vitest';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { entryToResource, resourceToAttributes } from '../../../src/mapping/convert.ts';
import { translateFilter } from '../../../src/mapping/filter.ts';
import { compileMappingTexts } from '../../../src/mapping/load.ts';
import { splitTransform, TRANSFORMS, TransformError } from '../../../src/mapping/transforms.ts';
import { ScimError } from '../../../src/scim/errors.ts';
import { parseFilter } from '../../../src/scim/filter.ts';

const FAIL = Symbol('fails');
const postal = TRANSFORMS.get('postalAddress');
if (!postal) throw new Error('no postalAddress transform');

// [SCIM formatted address, LDAP postalAddress or FAIL]
const POSTAL_TO_LDAP: [unknown, string | typeof FAIL][] = [
  ['1 Main St\nSpringfield', '1 Main St$Springfield'],
  ['1 Main St\r\nSpringfield\r\nUSA', '1 Main St$Springfield$USA'],
  ['  padded  \n line ', 'padded$line'],
  ['Costs $5\nC:\\dir', 'Costs \\245$C:\\5Cdir'],
  ['one line', 'one line'],
  ['trailing\n\n', 'trailing'],
  ['', ''],
  ['first\n\nthird', FAIL],
  [null, FAIL],
  [{ street: 'x' }, FAIL],
];

// [LDAP postalAddress, SCIM formatted address]
const POSTAL_FROM_LDAP: [string, string][] = [
  ['1 Main St$Springfield', '1 Main St\nSpringfield'],
  ['1 Main St $ Springfield $ USA', '1 Main St\nSpringfield\nUSA'],
  ['Costs \\245$C:\\5Cdir', 'Costs $5\nC:\\dir'],
  ['lower \\5c and \\24', 'lower \\ and $'],
  ['\\5C24 stays literal', '\\24 stays literal'],
  ['no separator', 'no separator'],
];

describe('postalAddress', () => {
  it.each(POSTAL_TO_LDAP)('%j -> %j', (value, expected) => {
    if (expected === FAIL) expect(() => postal.toLdap(value)).toThrow(TransformError);
    else expect(postal.toLdap(value)).toBe(expected);
  });
  it.each(POSTAL_FROM_LDAP)('%j <- %j', (ldap, expected) => {
    expect(postal.fromLdap(ldap)).toBe(expected);
  });
});

// [separator, SCIM list, joined LDAP value or FAIL]
const JOIN: [string, unknown[], string | typeof FAIL][] = [
  [',', ['a', 'b', 'c'], 'a,b,c'],
  [',', ['only'], 'only'],
  [',', [], ''],
  [',', ['a', '', 'b'], 'a,b'],
  [';', ['x,y', 'z'], 'x,y;z'],
  [' | ', ['red', 'green'], 'red | green'],
  [',', [7, true], '7,true'],
  [',', ['a,b'], FAIL],
  [';', ['ok', 'not;ok'], FAIL],
  [',', [null], FAIL],
  [',', [{ value: 'a' }], FAIL],
];

// [separator, LDAP value, SCIM list]
const SPLIT: [string, string, string[]][] = [
  [',', 'a,b,c', ['a', 'b', 'c']],
  [',', 'a,,b,', ['a', 'b']],
  [',', '', []],
  [';', 'x,y;z', ['x,y', 'z']],
  [' | ', 'red | green', ['red', 'green']],
];

describe('split', () => {
  it.each(JOIN)('separator %j joins %j -> %j', (separator, values, expected) => {
    const t = splitTransform(separator);
    if (expected === FAIL) expect(() => t.joinValues?.(values)).toThrow(TransformError);
    else expect(t.joinValues?.(values)).toBe(expected);
  });
  it.each(SPLIT)('separator %j splits %j -> %j', (separator, ldap, expected) => {
    expect(splitTransform(separator).splitValue?.(ldap)).toEqual(expected);
  });
  it('refuses an empty separator', () => {
    expect(() => splitTransform('')).toThrow(TransformError);
  });
});

const BADGES_URN = 'urn:example:params:scim:schemas:extension:badges:2.0:User';
function usersYaml(badgesRule: string, extraAttributes = ''): string {
  return `resourceType: User
endpoint: /Users
schema: urn:ietf:params:scim:schemas:core:2.0:User
extensions:
  - schema: ${BADGES_URN}
customSchemas:
  - id: ${BADGES_URN}
    name: Badges
    attributes:
      - { name: badges, type: string, multiValued: true }
      - { name: motto, type: string }
directory:
  base: ou=People,dc=example,dc=com
  objectClasses: [inetOrgPerson]
  filter: (objectClass=inetOrgPerson)
  dnTemplate: uid={userName},ou=People,dc=example,dc=com
  id: entryUUID
  version: entryCSN
attributes:
  userName: { ldap: uid }
  '${BADGES_URN}:badges': ${badgesRule}
${extraAttributes}`;
}

const compile = (text: string) => compileMappingTexts([{ file: 'users.yaml', text }], STANDARD_SCHEMAS);

// [badges rule, extra attribute lines, expected error (file:line:column and message)]
const BAD_MAPPINGS: [string, string, RegExp][] = [
  [
    '{ ldap: description, separator: ";" }',
    '',
    /users\.yaml:21:\d+ .*separator is only used by transform: split/,
  ],
  [
    '{ ldap: description, transform: split }',
    `  '${BADGES_URN}:motto': { ldap: l, transform: split }`,
    /users\.yaml:22:\d+ .*transform "split" joins the values of a multi-valued attribute/,
  ],
  [
    '{ ldap: description, transform: split, separator: "" }',
    '',
    /users\.yaml:21:\d+ .*separator.*(fewer than 1|must NOT have fewer)/,
  ],
  ['{ ldap: description, transform: splat }', '', /users\.yaml:21:\d+ .*transform/],
];

describe('mapping checks for split', () => {
  it.each(BAD_MAPPINGS)('%s %s is refused', (rule, extra, expected) => {
    expect(() => compile(usersYaml(rule, extra))).toThrow(expected);
  });
  it('refuses split on one element selected by type', () => {
    const text = usersYaml('{ ldap: description, transform: split }').replace(
      'userName: { ldap: uid }',
      `userName: { ldap: uid }\n  'emails[type eq "work"].value': { ldap: mail, transform: split }`,
    );
    expect(() => compile(text)).toThrow(/users\.yaml:21:\d+ .*holds one value/);
  });
});

describe('split inside the converter and the filter translation', () => {
  const rt = compile(usersYaml('{ ldap: description, transform: split, separator: ";" }')).resourceTypes[0]!;
  const resolveId = async () => undefined;

  it('writes the whole list as one LDAP value and reads it back as the list', () => {
    const resource = { userName: 'ann', [BADGES_URN]: { badges: ['first aid', 'fire, warden'] } };
    const mapped = resourceToAttributes(rt, resource, new Map(), 'create');
    expect(mapped.get('description')?.values).toEqual(['first aid;fire, warden']);
    const back = entryToResource(
      rt,
      { dn: 'uid=ann,ou=People,dc=example,dc=com', attributes: { uid: ['ann'], description: ['a;b'] } },
      { location: '', references: new Map() },
    );
    expect(back[BADGES_URN]).toEqual({ badges: ['a', 'b'] });
  });

  it('refuses an element holding the separator as 400 invalidValue naming the attribute', () => {
    const resource = { userName: 'ann', [BADGES_URN]: { badges: ['a;b'] } };
    expect(() => resourceToAttributes(rt, resource, new Map(), 'create')).toThrow(/badges/);
  });

  const translate = (text: string) => translateFilter(rt, parseFilter(text), { resolveId });

  it('compares one element: eq as the four positions an element can take', async () => {
    expect(await translate(`${BADGES_URN}:badges eq "b"`)).toEqual({
      type: 'or',
      filters: [
        { type: 'equal', attribute: 'description', value: 'b' },
        { type: 'substring', attribute: 'description', initial: 'b;', any: [] },
        { type: 'substring', attribute: 'description', any: [], final: ';b' },
        { type: 'substring', attribute: 'description', any: [';b;'] },
      ],
    });
  });

  it('sw, ew, co and pr', async () => {
    expect(await translate(`${BADGES_URN}:badges sw "fi"`)).toEqual({
      type: 'or',
      filters: [
        { type: 'substring', attribute: 'description', initial: 'fi', any: [] },
        { type: 'substring', attribute: 'description', any: [';fi'] },
      ],
    });
    expect(await translate(`${BADGES_URN}:badges ew "en"`)).toEqual({
      type: 'or',
      filters: [
        { type: 'substring', attribute: 'description', any: [], final: 'en' },
        { type: 'substring', attribute: 'description', any: ['en;'] },
      ],
    });
    expect(await translate(`${BADGES_URN}:badges co "ir"`)).toEqual({
      type: 'substring',
      attribute: 'description',
      any: ['ir'],
    });
    expect(await translate(`${BADGES_URN}:badges pr`)).toEqual({ type: 'present', attribute: 'description' });
  });

  it.each([`${BADGES_URN}:badges gt "a"`, `${BADGES_URN}:badges le "a"`, `${BADGES_URN}:badges eq "a;b"`])(
    '%s is 400 invalidFilter',
    async (text) => {
      const error = await translate(text).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ScimError);
      expect((error as ScimError).scimType).toBe('invalidFilter');
    },
  );
});

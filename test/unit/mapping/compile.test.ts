/**
 * The mapping compiler: the shipped presets compile, and every kind of mistake an admin can make
 * is reported at the right file:line:column with the key and a hint.
 */
import { describe, expect, it } from 'vitest';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { compileMappingTexts, loadMappingDirectory } from '../../../src/mapping/load.ts';
import { MappingError } from '../../../src/mapping/problems.ts';

const GROUPS = `resourceType: Group
endpoint: /Groups
schema: urn:ietf:params:scim:schemas:core:2.0:Group
directory:
  base: ou=Groups,dc=example,dc=com
  objectClasses: [groupOfNames]
  filter: (objectClass=groupOfNames)
  dnTemplate: cn={displayName},ou=Groups,dc=example,dc=com
  id: entryUUID
  version: entryCSN
attributes:
  displayName: { ldap: cn }
  members.value: { ldap: member, references: [User, Group] }
`;

const usersWith = (attributes: string, directoryExtra = '') => `resourceType: User
endpoint: /Users
schema: urn:ietf:params:scim:schemas:core:2.0:User
extensions:
  - schema: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
directory:
  base: ou=People,dc=example,dc=com
  objectClasses: [inetOrgPerson]
  filter: (objectClass=inetOrgPerson)
  dnTemplate: uid={userName},ou=People,dc=example,dc=com
  id: entryUUID
  version: entryCSN
${directoryExtra}attributes:
  userName: { ldap: uid }
${attributes}`;

function problemsOf(
  users: string,
): { line: number; column: number; key: string; message: string; hint?: string }[] {
  try {
    compileMappingTexts(
      [
        { file: 'users.yaml', text: users },
        { file: 'groups.yaml', text: GROUPS },
      ],
      STANDARD_SCHEMAS,
    );
  } catch (error) {
    if (error instanceof MappingError) return error.problems;
    throw error;
  }
  return [];
}

describe('shipped presets', () => {
  it('mappings/openldap compiles with Users and Groups', () => {
    const set = loadMappingDirectory('mappings/openldap', STANDARD_SCHEMAS);
    expect(set.resourceTypes.map((r) => r.name).sort()).toEqual(['Group', 'User']);
  });
});

describe('a valid file', () => {
  it('compiles rules with the definition of the mapped value', () => {
    const set = compileMappingTexts(
      [
        {
          file: 'users.yaml',
          text: usersWith(
            '  \'emails[type eq "work"].value\': { ldap: mail }\n  active: { ldap: x-active, transform: boolean }\n',
          ),
        },
        { file: 'groups.yaml', text: GROUPS },
      ],
      STANDARD_SCHEMAS,
    );
    const users = set.resourceTypes.find((r) => r.name === 'User')!;
    const email = users.rules.find((r) => r.ldap === 'mail')!;
    expect(email).toMatchObject({ attribute: 'emails', subAttribute: 'value', typeValue: 'work' });
    expect(users.directory).toMatchObject({ rdnAttribute: 'uid', rdnPath: 'userName' });
    // Only mapped attributes are published, with the selection's type as a canonical value.
    const schema = set.schemas.find((s) => s.id.endsWith(':core:2.0:User'))!;
    expect(schema.attributes.map((a) => a.name).sort()).toEqual(['active', 'emails', 'userName']);
    const emails = schema.attributes.find((a) => a.name === 'emails')!;
    expect(emails.subAttributes?.find((s) => s.name === 'type')?.canonicalValues).toEqual(['work']);
  });
});

describe('mistakes are reported where they are', () => {
  // Fixture lines: usersWith() puts `userName` on line 14 and the first extra attribute on line 15.
  const cases: [string, string, string, { line: number; key: string; message: RegExp; hint?: RegExp }][] = [
    [
      'unknown SCIM attribute with a suggestion',
      '  usrName2: { ldap: cn }\n',
      '',
      { line: 15, key: 'attributes.usrName2', message: /not an attribute/, hint: /userName/ },
    ],
    [
      'unknown sub-attribute',
      '  name.givenNme: { ldap: givenName }\n',
      '',
      {
        line: 15,
        key: 'attributes.name.givenNme',
        message: /not a sub-attribute of name/,
        hint: /givenName/,
      },
    ],
    [
      'complex attribute without sub-attribute',
      '  name: { ldap: cn }\n',
      '',
      { line: 15, key: 'attributes.name', message: /complex/ },
    ],
    [
      'duplicate SCIM target',
      '  displayName: { ldap: displayName }\n  displayname: { ldap: cn }\n',
      '',
      { line: 16, key: 'attributes.displayname', message: /same SCIM attribute/ },
    ],
    [
      'one LDAP attribute written twice',
      '  displayName: { ldap: cn }\n  title: { ldap: CN }\n',
      '',
      { line: 16, key: 'attributes.title', message: /already written/ },
    ],
    [
      'transform on the wrong type',
      '  displayName: { ldap: cn, transform: boolean }\n',
      '',
      {
        line: 15,
        key: 'attributes.displayName',
        message: /boolean values but displayName is of type string/,
      },
    ],
    [
      'unknown transform',
      '  displayName: { ldap: cn, transform: shout }\n',
      '',
      { line: 15, key: 'attributes.displayName.transform', message: /must be one of/ },
    ],
    [
      'unknown key in a rule',
      '  displayName: { ldap: cn, ldpa: x }\n',
      '',
      { line: 15, key: 'attributes.displayName.ldpa', message: /unknown key "ldpa"/ },
    ],
    [
      'extension that is not declared',
      "  'urn:example:ext:2.0:User:badge': { ldap: cn }\n",
      '',
      {
        line: 15,
        key: 'attributes.urn:example:ext:2.0:User:badge',
        message: /neither the core schema nor a declared extension/,
      },
    ],
    [
      'selection other than by type',
      '  \'emails[value eq "x"].value\': { ldap: mail }\n',
      '',
      { line: 15, key: 'attributes.emails[value eq "x"].value', message: /selection by type/ },
    ],
    [
      'template naming an unmapped attribute',
      '',
      '  computed:\n    cn: "{nickName}"\n',
      { line: 14, key: 'directory.computed.cn', message: /nickName/ },
    ],
  ];
  it.each(cases)('%s', (_name, attributes, directoryExtra, expected) => {
    const problems = problemsOf(usersWith(attributes, directoryExtra));
    expect(problems).toHaveLength(1);
    const p = problems[0]!;
    expect(p.line).toBe(expected.line);
    expect(p.column).toBeGreaterThan(0);
    expect(p.key).toBe(expected.key);
    expect(p.message).toMatch(expected.message);
    if (expected.hint) expect(p.hint).toMatch(expected.hint);
  });

  it('an unparsable scope filter names the character', () => {
    const problems = problemsOf(
      usersWith('').replace('(objectClass=inetOrgPerson)', '(objectClass=inetOrgPerson'),
    );
    expect(problems[0]).toMatchObject({ line: 9, key: 'directory.filter' });
    expect(problems[0]!.message).toMatch(/character \d+/);
  });

  it('YAML syntax errors carry their position', () => {
    const problems = problemsOf(`${usersWith('')}  bad: [unclosed\n`);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]!.line).toBeGreaterThan(1);
  });

  it('a reference to an unknown resource type is named', () => {
    const problems = problemsOf(
      usersWith(
        "  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value': { ldap: manager, references: Person }\n",
      ),
    );
    expect(problems[0]).toMatchObject({
      key: expect.stringContaining('references'),
      message: expect.stringContaining('"Person"'),
    });
  });

  it('a missing required key is reported', () => {
    const problems = problemsOf(usersWith('').replace('  id: entryUUID\n', ''));
    expect(problems[0]).toMatchObject({ key: 'directory', message: 'missing required key "id"' });
  });

  it('formats problems as file:line:column', () => {
    try {
      compileMappingTexts(
        [{ file: 'users.yaml', text: usersWith('  nope: { ldap: cn }\n') }],
        STANDARD_SCHEMAS,
      );
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/^users\.yaml:15:3 attributes\.nope: /m);
    }
  });
});

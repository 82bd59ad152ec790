/**
 * checkAgainstSubschema: every LDAP attribute type and object class a mapping names must be in the
 * directory's subschema (RFC 4512 §4.2). Pure: in-memory mapping texts against a hand-written
 * subschema (names and OIDs from RFC 4519, RFC 4524, RFC 2798, RFC 4530 and OpenLDAP).
 */
import { describe, expect, it } from 'vitest';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { compileMappingTexts } from '../../../src/mapping/load.ts';
import { formatProblem } from '../../../src/mapping/problems.ts';
import { checkAgainstSubschema, subschemaVerifier } from '../../../src/mapping/subschema.ts';
import type { DirectorySubschema } from '../../../src/ports/directory.ts';
import { UnavailableError } from '../../../src/ports/errors.ts';

const SUBSCHEMA: DirectorySubschema = {
  source: 'cn=Subschema',
  attributeTypes: [
    ...['2.5.4.0', 'objectClass'],
    ...['2.5.4.3', 'cn', 'commonName'],
    ...['2.5.4.4', 'sn', 'surname'],
    ...['0.9.2342.19200300.100.1.1', 'uid', 'userid'],
    ...['0.9.2342.19200300.100.1.3', 'mail', 'rfc822Mailbox'],
    ...['2.16.840.1.113730.3.1.241', 'displayName'],
    ...['2.5.4.31', 'member'],
    ...['1.2.840.113556.1.2.102', 'memberOf'],
    ...['1.3.6.1.1.16.4', 'entryUUID'],
    ...['1.3.6.1.4.1.4203.666.1.7', 'entryCSN'],
    ...['2.5.18.1', 'createTimestamp'],
    ...['2.5.18.2', 'modifyTimestamp'],
    ...['2.5.4.20', 'telephoneNumber'],
    ...['2.5.4.7', 'l', 'localityName'],
    ...['2.5.4.8', 'st', 'stateOrProvinceName'],
  ],
  objectClasses: [
    ...['2.5.6.0', 'top'],
    ...['2.5.6.6', 'person'],
    ...['2.16.840.1.113730.3.2.2', 'inetOrgPerson'],
    ...['2.5.6.9', 'groupOfNames'],
  ],
};

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
  members.value: { ldap: member, references: [User, Group], reverse: memberOf }
`;

/** Valid against SUBSCHEMA; each case below changes one thing. */
const USERS = `resourceType: User
endpoint: /Users
schema: urn:ietf:params:scim:schemas:core:2.0:User
directory:
  base: ou=People,dc=example,dc=com
  objectClasses: [top, person, inetOrgPerson]
  filter: (objectClass=inetOrgPerson)
  dnTemplate: uid={userName},ou=People,dc=example,dc=com
  id: entryUUID
  version: entryCSN
  computed:
    cn: "{displayName|userName}"
attributes:
  userName: { ldap: uid }
  name.familyName: { ldap: sn }
  displayName: { ldap: displayName }
  'emails[type eq "work"].value': { ldap: mail }
  'phoneNumbers[type eq "work"].value': { ldap: telephoneNumber }
  groups.value: { ldap: memberOf, references: Group, reverse: member, readOnly: true }
`;

interface Expected {
  /** users.yaml unless given. */
  file?: 'groups.yaml';
  /** Text the problem must point at: its first occurrence in the changed file gives line and column. */
  at: string;
  key: string;
  message: string;
  hint: string;
}

interface Case {
  name: string;
  /** Replacements applied to USERS, each of which must match. */
  edits: [string, string][];
  subschema?: DirectorySubschema;
  expected: Expected[];
}

const CASES: Case[] = [
  { name: 'the baseline: every name known', edits: [], expected: [] },
  {
    name: 'an alias (NAME list) is known',
    edits: [['{ ldap: sn }', '{ ldap: surname }']],
    expected: [],
  },
  {
    name: 'names compare case-insensitively',
    edits: [
      ['{ ldap: displayName }', '{ ldap: DISPLAYNAME }'],
      ['[top, person, inetOrgPerson]', '[TOP, Person, inetorgperson]'],
    ],
    expected: [],
  },
  {
    name: 'a numeric OID is known',
    edits: [
      ['  id: entryUUID\n', '  id: entryUUID\n  created: 2.5.18.1\n'],
      ['filter: (objectClass=inetOrgPerson)', 'filter: (&(objectClass=inetOrgPerson)(2.5.4.3=*))'],
    ],
    expected: [],
  },
  {
    name: 'attribute options are stripped (RFC 4512 §2.5)',
    edits: [['{ ldap: displayName }', '{ ldap: displayName;lang-en }']],
    expected: [],
  },
  {
    name: 'a misspelt rule attribute',
    edits: [['{ ldap: mail }', '{ ldap: mial }']],
    expected: [
      {
        at: `'emails[type eq "work"].value'`,
        key: 'attributes.emails[type eq "work"].value',
        message: 'LDAP attribute "mial" is not defined',
        hint: 'did you mean "mail"?',
      },
    ],
  },
  {
    name: 'a misspelt attribute with an option is named without the option',
    edits: [['{ ldap: displayName }', '{ ldap: dispalyName;lang-en }']],
    expected: [
      {
        at: 'displayName: { ldap',
        key: 'attributes.displayName',
        message: 'LDAP attribute "dispalyName" is not defined',
        hint: 'did you mean "displayName"?',
      },
    ],
  },
  {
    name: 'an unknown object class',
    edits: [['[top, person, inetOrgPerson]', '[top, person, inetOrgPersn]']],
    expected: [
      {
        at: 'inetOrgPersn',
        key: 'directory.objectClasses.2',
        message: 'object class "inetOrgPersn" is not defined',
        hint: 'did you mean "inetOrgPerson"?',
      },
    ],
  },
  {
    name: 'an unknown reverse attribute',
    edits: [['reverse: member,', 'reverse: membr,']],
    expected: [
      {
        at: 'groups.value:',
        key: 'attributes.groups.value.reverse',
        message: 'LDAP attribute "membr" is not defined',
        hint: 'did you mean "member"?',
      },
    ],
  },
  {
    name: 'an attribute and an object class in the scope filter',
    edits: [['(objectClass=inetOrgPerson)', '(&(objectClass=inetOrgPersn)(mial=*))']],
    expected: [
      {
        at: '(&(objectClass',
        key: 'directory.filter',
        message: 'object class "inetOrgPersn" is not defined',
        hint: 'did you mean "inetOrgPerson"?',
      },
      {
        at: '(&(objectClass',
        key: 'directory.filter',
        message: 'LDAP attribute "mial" is not defined',
        hint: 'did you mean "mail"?',
      },
    ],
  },
  {
    name: 'the RDN attribute of the dnTemplate',
    edits: [['dnTemplate: uid=', 'dnTemplate: uidd=']],
    expected: [
      {
        at: 'uidd={userName}',
        key: 'directory.dnTemplate',
        message: 'LDAP attribute "uidd" is not defined',
        hint: 'did you mean "uid"?',
      },
    ],
  },
  {
    name: 'an id attribute the directory lacks, with nothing similar',
    edits: [['id: entryUUID', 'id: ipaUniqueID']],
    expected: [
      {
        at: 'ipaUniqueID',
        key: 'directory.id',
        message: 'LDAP attribute "ipaUniqueID" is not defined in the directory\'s schema (cn=Subschema)',
        hint: 'must be loaded in the directory',
      },
    ],
  },
  {
    name: 'a version attribute',
    edits: [['version: entryCSN', 'version: uSNChanged']],
    expected: [
      {
        at: 'uSNChanged',
        key: 'directory.version',
        message: 'LDAP attribute "uSNChanged" is not defined',
        hint: 'must be loaded in the directory',
      },
    ],
  },
  {
    name: 'explicit created, lastModified and sort attributes',
    edits: [
      [
        '  id: entryUUID\n',
        '  id: entryUUID\n  created: createTimestmp\n  lastModified: modifyTimestamp\n  sort: { attribute: displayNme }\n',
      ],
    ],
    expected: [
      {
        at: 'createTimestmp',
        key: 'directory.created',
        message: 'LDAP attribute "createTimestmp" is not defined',
        hint: 'did you mean "createTimestamp"?',
      },
      {
        at: 'displayNme',
        key: 'directory.sort.attribute',
        message: 'LDAP attribute "displayNme" is not defined',
        hint: 'did you mean "displayName"?',
      },
    ],
  },
  {
    name: 'a default the directory lacks points at the directory block',
    edits: [],
    subschema: {
      ...SUBSCHEMA,
      attributeTypes: SUBSCHEMA.attributeTypes.filter((n) => n !== 'modifyTimestamp'),
    },
    expected: [
      {
        at: 'directory:',
        key: 'directory.lastModified',
        message: 'LDAP attribute "modifyTimestamp" (the default of directory.lastModified) is not defined',
        hint: 'must be loaded in the directory',
      },
      {
        file: 'groups.yaml',
        at: 'directory:',
        key: 'directory.lastModified',
        message: 'LDAP attribute "modifyTimestamp" (the default of directory.lastModified) is not defined',
        hint: 'must be loaded in the directory',
      },
    ],
  },
  {
    name: 'a computed attribute points at its key',
    edits: [
      ['    cn: "{displayName|userName}"\n', '    cn: "{displayName|userName}"\n    snn: "{userName}"\n'],
    ],
    expected: [
      {
        at: 'snn:',
        key: 'directory.computed.snn',
        message: 'LDAP attribute "snn" is not defined',
        hint: 'did you mean "sn"?',
      },
    ],
  },
  {
    name: 'a short name gets only one-edit suggestions, all of them',
    edits: [['{ ldap: telephoneNumber }', '{ ldap: sm }']],
    expected: [
      {
        at: `'phoneNumbers`,
        key: 'attributes.phoneNumbers[type eq "work"].value',
        message: 'LDAP attribute "sm" is not defined',
        hint: 'did you mean "sn" or "st"?',
      },
    ],
  },
];

function applyEdits(edits: [string, string][]): string {
  let text = USERS;
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`fixture lacks ${from}`);
    text = text.replace(from, to);
  }
  return text;
}

/** 1-based line and column of the first occurrence of `needle`, counted here from the text. */
function position(text: string, needle: string): { line: number; column: number } {
  const lines = text.split('\n');
  const index = lines.findIndex((l) => l.includes(needle));
  if (index < 0) throw new Error(`no ${needle} in the fixture`);
  return { line: index + 1, column: lines[index]!.indexOf(needle) + 1 };
}

describe('checkAgainstSubschema', () => {
  it.each(CASES)('$name', ({ edits, subschema, expected }) => {
    const users = applyEdits(edits);
    const set = compileMappingTexts(
      [
        { file: 'users.yaml', text: users },
        { file: 'groups.yaml', text: GROUPS },
      ],
      STANDARD_SCHEMAS,
    );
    const problems = checkAgainstSubschema(set, subschema ?? SUBSCHEMA);
    expect(problems).toHaveLength(expected.length);
    expected.forEach((want, i) => {
      const got = problems[i]!;
      expect({ file: got.file, line: got.line, column: got.column, key: got.key }).toEqual({
        file: want.file ?? 'users.yaml',
        ...position(want.file ? GROUPS : users, want.at),
        key: want.key,
      });
      expect(got.message).toContain(want.message);
      expect(got.hint).toContain(want.hint);
    });
  });

  it('formats like every other mapping problem: file:line:column key: message (hint: ...)', () => {
    const users = applyEdits([['{ ldap: mail }', '{ ldap: mial }']]);
    const set = compileMappingTexts(
      [
        { file: 'users.yaml', text: users },
        { file: 'groups.yaml', text: GROUPS },
      ],
      STANDARD_SCHEMAS,
    );
    const [problem] = checkAgainstSubschema(set, SUBSCHEMA);
    expect(problem && formatProblem(problem)).toBe(
      `users.yaml:17:3 attributes.emails[type eq "work"].value: LDAP attribute "mial" is not defined in the directory's schema (cn=Subschema) (hint: did you mean "mail"?)`,
    );
  });

  it('checks every resource type of the set (the groups file too)', () => {
    const set = compileMappingTexts(
      [
        { file: 'users.yaml', text: USERS },
        { file: 'groups.yaml', text: GROUPS.replace('[groupOfNames]', '[groupOfNamez]') },
      ],
      STANDARD_SCHEMAS,
    );
    const problems = checkAgainstSubschema(set, SUBSCHEMA);
    expect(problems.map((p) => [p.file, p.line, p.key])).toEqual([
      ['groups.yaml', 6, 'directory.objectClasses.0'],
    ]);
  });
});

describe('subschemaVerifier (the MappingStore verify hook)', () => {
  const set = () =>
    compileMappingTexts(
      [
        { file: 'users.yaml', text: USERS.replace('{ ldap: mail }', '{ ldap: mial }') },
        { file: 'groups.yaml', text: GROUPS },
      ],
      STANDARD_SCHEMAS,
    );

  it('reports the problems when the directory shows its subschema', async () => {
    const skipped: string[] = [];
    const verify = subschemaVerifier({ subschema: async () => SUBSCHEMA }, (r) => skipped.push(r));
    expect((await verify(set())).map((p) => p.key)).toEqual(['attributes.emails[type eq "work"].value']);
    expect(skipped).toEqual([]);
  });

  it.each([
    ['it is unreachable', () => Promise.reject(new UnavailableError('connect ECONNREFUSED')), 'ECONNREFUSED'],
    ['it hides its subschema', () => Promise.resolve(undefined), 'does not let the bridge read'],
    ['it does not answer in time', () => new Promise<undefined>(() => {}), 'within 50 ms'],
  ])('accepts the set unchecked and says why when %s', async (_, subschema, reason) => {
    const skipped: string[] = [];
    const verify = subschemaVerifier({ subschema }, (r) => skipped.push(r), 50);
    expect(await verify(set())).toEqual([]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toContain(reason);
  });

  it('lets programming errors through', async () => {
    const verify = subschemaVerifier({ subschema: () => Promise.reject(new TypeError('bug')) }, () => {});
    await expect(verify(set())).rejects.toThrow(TypeError);
  });
});

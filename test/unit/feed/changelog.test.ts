/**
 * 389-DS Retro Changelog records (src/feed/dirsrv/changelog.ts). The record texts below are the
 * shapes 389-DS 2.3.1 wrote (copied from a real `cn=changelog`, trailing NUL bytes included).
 */
import { describe, expect, it } from 'vitest';
import {
  changelogGap,
  ldifAttribute,
  ldifLines,
  parseChangelogRecord,
  parseLdifEntry,
  parseLdifModifications,
} from '../../../src/feed/dirsrv/changelog.ts';
import {
  byPlugin,
  changelogPosition,
  changelogScore,
  changeNumberOf,
} from '../../../src/feed/dirsrv/consumer.ts';

const UID = 'AC135DBE-F05611F1-BB0BDEBF-F2397E2B';
const BRIDGE = 'uid=scim-bridge,ou=services,dc=example,dc=com';

function record(fields: Record<string, string | undefined>): Record<string, string> {
  const base: Record<string, string | undefined> = {
    changeNumber: '7',
    targetDn: 'uid=x,ou=People,dc=example,dc=com',
    changeTime: '20261205025047Z',
    changeType: 'modify',
    targetuniqueid: UID,
    changes: `replace: title\ntitle: T\n-\nreplace: modifiersname\nmodifiersname: ${BRIDGE}\n-\nreplace: modifytimestamp\nmodifytimestamp: 20261205025047Z\n-\n\u0000`,
    ...fields,
  };
  return Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
}

describe('LDIF text (RFC 2849)', () => {
  it.each([
    ['a: 1\nb: 2\n', ['a: 1', 'b: 2']],
    ['a: long\n  value\n', ['a: long value']],
    ['a: x\n\nb: y\u0000', ['a: x', 'b: y']],
    ['a: x\r\nb: y\r\n', ['a: x', 'b: y']],
    ['', []],
  ])('lines of %j', (text, expected) => {
    expect(ldifLines(text)).toEqual(expected);
  });

  it.each([
    ['cn: Alice', { attribute: 'cn', value: 'Alice' }],
    ['CN: Alice', { attribute: 'cn', value: 'Alice' }],
    ['cn:: w4Rsw6lh', { attribute: 'cn', value: 'Äléa' }],
    ['description: a: b', { attribute: 'description', value: 'a: b' }],
    ['description:', { attribute: 'description', value: '' }],
    ['cn;lang-de: Name', { attribute: 'cn;lang-de', value: 'Name' }],
  ])('attribute line %j', (line, expected) => {
    expect(ldifAttribute(line)).toEqual(expected);
  });

  it.each([
    ['no colon at all'],
    [': no attribute'],
    ['jpegPhoto:< file:///etc/passwd'],
    ['cn:: not base64!'],
  ])('refuses %j', (line) => {
    expect(() => ldifAttribute(line)).toThrow(/LDIF/);
  });

  it('an entry: values by lower-cased attribute, repeated attributes kept in order', () => {
    expect(parseLdifEntry('objectClass: top\nobjectClass: person\ncn: X\n')).toEqual(
      new Map([
        ['objectclass', ['top', 'person']],
        ['cn', ['X']],
      ]),
    );
  });

  it.each([
    ['replace: title\ntitle: T\n-\n', [{ attribute: 'title', operation: 'replace', values: ['T'] }]],
    [
      'delete: member\nmember: uid=x,o=e\n-\nadd: member\nmember: uid=y,o=e\nmember: uid=z,o=e\n-\n',
      [
        { attribute: 'member', operation: 'delete', values: ['uid=x,o=e'] },
        { attribute: 'member', operation: 'add', values: ['uid=y,o=e', 'uid=z,o=e'] },
      ],
    ],
    ['delete: description\n-\n', [{ attribute: 'description', operation: 'delete', values: [] }]],
    ['replace: Title\ntitle: T\n-\n', [{ attribute: 'title', operation: 'replace', values: ['T'] }]],
    [
      'increment: uidNumber\nuidNumber: 1\n-\n',
      [{ attribute: 'uidnumber', operation: 'increment', values: ['1'] }],
    ],
  ])('modifications of %j', (text, expected) => {
    expect(parseLdifModifications(text)).toEqual(expected);
  });

  it.each([
    ['-\n', /without a modification/],
    ['rename: title\n-\n', /not understood/],
    ['replace: title\ncn: X\n-\n', /inside the modification of title/],
    ['title: T\n', /not understood/],
  ])('refuses the modifications %j', (text, error) => {
    expect(() => parseLdifModifications(text)).toThrow(error);
  });
});

describe('changelog records', () => {
  it('a modify: its changes without 389 bookkeeping, the author from modifiersName', () => {
    const parsed = parseChangelogRecord(record({}));
    expect(parsed).toMatchObject({
      changeNumber: 7,
      reqStart: '20261205025047Z',
      operation: 'modify',
      dn: 'uid=x,ou=People,dc=example,dc=com',
      authzId: BRIDGE,
      entryUuid: UID.toLowerCase(),
      modifications: [{ attribute: 'title', operation: 'replace', values: ['T'] }],
    });
    expect(parsed.newDn).toBeUndefined();
  });

  it('an add: every attribute an added value, the author from creatorsName', () => {
    const parsed = parseChangelogRecord(
      record({
        changeType: 'add',
        changes:
          'objectClass: inetOrgPerson\nobjectClass: top\nuid: x\ncn: X\ncreatorsName: cn=directory manager\nmodifiersName: cn=directory manager\ncreateTimestamp: 20261205025040Z\nentryid: 6\ndsEntryDN: uid=x,ou=People,dc=example,dc=com\n',
      }),
    );
    expect(parsed.authzId).toBe('cn=directory manager');
    expect(parsed.modifications).toEqual([
      { attribute: 'objectclass', operation: 'add', values: ['inetOrgPerson', 'top'] },
      { attribute: 'uid', operation: 'add', values: ['x'] },
      { attribute: 'cn', operation: 'add', values: ['X'] },
    ]);
  });

  it('a delete: no author, the old entry (nsslapd-log-deleted) as old values', () => {
    const parsed = parseChangelogRecord(
      record({ changeType: 'delete', changes: 'objectClass: person\ncn: X\nmodifiersName: cn=someone\n' }),
    );
    expect(parsed.authzId).toBe('');
    expect(parsed.modifications).toEqual([]);
    expect(parsed.old.get('objectclass')).toEqual(['person']);
  });

  it('a delete without logged entry: no old values', () => {
    const parsed = parseChangelogRecord(record({ changeType: 'delete', changes: undefined }));
    expect(parsed.old.size).toBe(0);
  });

  it.each([
    [{ newRDN: 'uid=y', deleteOldRDN: 'TRUE' }, 'uid=y,ou=People,dc=example,dc=com'],
    [{ newRDN: 'uid=y', newSuperior: 'ou=Former,dc=example,dc=com' }, 'uid=y,ou=Former,dc=example,dc=com'],
    [{ newRDN: 'cn=a\\, b' }, 'cn=a\\, b,ou=People,dc=example,dc=com'],
  ])('a modrdn %j leads to %s', (fields, newDn) => {
    const parsed = parseChangelogRecord(
      record({
        changeType: 'modrdn',
        changes: 'replace: modifiersname\nmodifiersname: cn=directory manager\n-\n',
        ...fields,
      }),
    );
    expect(parsed.newDn).toBe(newDn);
    expect(parsed.modifications).toEqual([]);
    expect(parsed.authzId).toBe('cn=directory manager');
  });

  it('event keys differ between records of the same second and the same number after a restore', () => {
    const keys = [
      parseChangelogRecord(record({})).eventKey,
      parseChangelogRecord(record({ changeNumber: '8' })).eventKey,
      parseChangelogRecord(record({ changeTime: '20261206000000Z' })).eventKey,
    ];
    expect(new Set(keys).size).toBe(3);
  });

  it('attribute names in any case', () => {
    const parsed = parseChangelogRecord({
      changenumber: '3',
      TARGETDN: 'cn=g,ou=Groups,dc=example,dc=com',
      changetime: '20261205025047Z',
      changetype: 'MODIFY',
      targetUniqueId: UID,
      Changes: 'add: member\nmember: uid=x,o=e\n-\n',
    });
    expect(parsed).toMatchObject({ changeNumber: 3, operation: 'modify' });
  });

  it.each([
    [{ changeNumber: undefined }, /valid changeNumber/],
    [{ changeNumber: '0' }, /valid changeNumber/],
    [{ changeNumber: '-4' }, /valid changeNumber/],
    [{ changeNumber: '12abc' }, /valid changeNumber/],
    [{ changeType: 'search' }, /not a write/],
    [{ changeType: undefined }, /not a write/],
    [{ targetDn: undefined }, /without targetDn/],
    [{ targetDn: '' }, /without targetDn/],
    [{ changeTime: 'yesterday' }, /generalized time/],
    [{ targetuniqueid: undefined }, /nsslapd-attribute: nsuniqueid:targetUniqueId/],
    [{ changeType: 'modrdn', changes: '' }, /modrdn without newRDN/],
    [{ changes: 'replace: title\ncn: X\n-\n' }, /inside the modification/],
    [{ changeType: 'add', changes: 'cn:< file:///etc/shadow\n' }, /URL refused/],
  ])('refuses %j', (fields, error) => {
    expect(() => parseChangelogRecord(record(fields))).toThrow(error);
  });
});

describe('the changelog position', () => {
  it.each([
    [0, {}, undefined],
    [10, {}, /empty/],
    [10, { first: 1, last: 10 }, undefined],
    [10, { first: 11, last: 20 }, undefined],
    [10, { first: 5, last: 40 }, undefined],
    [0, { first: 1, last: 3 }, undefined],
    [10, { first: 12, last: 20 }, /trimmed/],
    [10, { first: 1, last: 9 }, /restored/],
    [10, { last: 2 }, /restored/],
  ])('position %d with bounds %j', (position, bounds, gap) => {
    const found = changelogGap(position, bounds);
    if (gap === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(gap);
  });

  it.each([
    ['changelog:42', 42],
    ['changelog:0', 0],
    ['20261205025047.000000Z', undefined],
    ['changelog:', undefined],
    ['changelog:-1', undefined],
    ['changelog:1.5', undefined],
  ])('stored position %j is changeNumber %j', (text, number) => {
    expect(changeNumberOf(text)).toBe(number);
  });

  it('a position round-trips through its text', () => {
    expect(changeNumberOf(changelogPosition(123456))).toBe(123456);
  });

  it('order scores follow the changeNumber within a second and the time across seconds', () => {
    const score = (changeNumber: string, changeTime: string) =>
      changelogScore(parseChangelogRecord(record({ changeNumber, changeTime })));
    const [seventh, eighth] = [score('7', '20261205025047Z'), score('8', '20261205025047Z')];
    expect(eighth - seventh).toBeGreaterThanOrEqual(3);
    expect(score('9', '20261205025048Z')).toBeGreaterThan(score('8', '20261205025047Z'));
  });
});

describe("changes 389's plug-ins made (consequences of another change: no events)", () => {
  it.each([
    ['cn=MemberOf Plugin,cn=plugins,cn=config', true],
    ['cn=referential integrity postoperation,cn=plugins,cn=config', true],
    ['CN=MemberOf Plugin, CN=Plugins, CN=Config', true],
    ['cn=directory manager', false],
    [BRIDGE, false],
    ['', false],
    ['cn=plugins,cn=config,dc=example,dc=com', false],
    ['uid=cn=plugins\\,cn=config,ou=People,dc=example,dc=com', false],
  ])('%j: %s', (author, expected) => {
    expect(
      byPlugin(
        parseChangelogRecord(record({ changes: `replace: modifiersname\nmodifiersname: ${author}\n-\n` })),
      ),
    ).toBe(expected);
  });
});

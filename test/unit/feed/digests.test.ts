import { describe, expect, it } from 'vitest';
import { parseReconcileArguments } from '../../../src/cli/commands/reconcile.ts';
import { attributeDigests, changedNames, parseDigests } from '../../../src/feed/digests.ts';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { findResourceTypeByName } from '../../../src/mapping/compiled.ts';
import { loadMappingDirectory } from '../../../src/mapping/load.ts';

const mappings = loadMappingDirectory('mappings/openldap', STANDARD_SCHEMAS);
const users = findResourceTypeByName(mappings, 'User');
const groups = findResourceTypeByName(mappings, 'Group');
if (!users || !groups) throw new Error('the shipped mappings define User and Group');

const bob = {
  uid: ['bob'],
  sn: ['Brown'],
  displayname: ['Bob'],
  userpassword: ['{SSHA}secret'],
  entryuuid: ['x'],
};
const digestsOf = (attributes: Record<string, string[]>) =>
  attributeDigests(users, { dn: 'uid=bob', attributes });

describe('attribute digests', () => {
  it('name each mapped attribute that has values, and never a secret', () => {
    const digests = digestsOf(bob);
    expect(Object.keys(digests)).toEqual(
      expect.arrayContaining(['userName', 'name.familyName', 'displayName']),
    );
    expect(Object.keys(digests)).not.toContain('password');
    expect(JSON.stringify(digests)).not.toContain('secret');
  });
  it.each([
    ['a changed value', { ...bob, displayname: ['Robert'] }, ['displayName']],
    [
      'a removed attribute',
      { uid: ['bob'], sn: ['Brown'], userpassword: ['other'], entryuuid: ['x'] },
      ['displayName'],
    ],
    ['only the password', { ...bob, userpassword: ['{SSHA}other'] }, []],
    ['an unmapped attribute', { ...bob, description: ['x'] }, []],
  ])('%s', (_, after, expected) => {
    expect(changedNames(digestsOf(bob), digestsOf(after))).toEqual(expected);
  });
  it('member lists compare as sets of DNs, whatever their order and case', () => {
    const digest = (member: string[]) =>
      attributeDigests(groups, { dn: 'cn=g', attributes: { cn: ['g'], member } });
    expect(digest(['uid=a,o=x', 'uid=b,o=x'])).toEqual(digest(['UID=B,o=x', 'uid=a,o=x']));
    expect(changedNames(digest(['uid=a,o=x']), digest(['uid=a,o=x', 'uid=c,o=x']))).toEqual(['members']);
  });
  it.each([['not json'], ['[1,2]'], ['{"a":1}'], ['null'], [''], [null]])(
    'a malformed stored record (%j) counts as unknown',
    (text) => {
      expect(parseDigests(text)).toBeUndefined();
    },
  );
});

describe('reconcile arguments', () => {
  it.each([
    [[], { services: [], dryRun: false }],
    [['--dry-run'], { services: [], dryRun: true }],
    [['--service', 'a', '--service=b', '--dry-run'], { services: ['a', 'b'], dryRun: true }],
    [['--service'], 'reconcile: --service needs a service name'],
    [['--service='], 'reconcile: --service needs a service name'],
    [['--force'], 'reconcile: unknown argument --force'],
    [['users'], 'reconcile: unknown argument users'],
  ])('%j', (args, expected) => {
    expect(parseReconcileArguments(args)).toEqual(expected);
  });
});

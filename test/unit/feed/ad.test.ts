import { describe, expect, it } from 'vitest';
import {
  type AdChangedEntry,
  adEventId,
  decodeAdPosition,
  dnHash,
  encodeAdPosition,
  entryChanges,
  guidToHex,
  memberGuids,
  positionVerdict,
  tombstoneResourceType,
} from '../../../src/feed/ad/changes.ts';
import { attributeDigests } from '../../../src/feed/digests.ts';
import { ANY_USN, usnOfVersion } from '../../../src/feed/own-writes.ts';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { findResourceTypeByName } from '../../../src/mapping/compiled.ts';
import { loadMappingDirectory } from '../../../src/mapping/load.ts';
import { guidToString } from '../../../src/mapping/transforms.ts';
import type { DirEntry } from '../../../src/ports/directory.ts';

const mappings = loadMappingDirectory('mappings/activedirectory', STANDARD_SCHEMAS);
function resourceType(name: string) {
  const found = findResourceTypeByName(mappings, name);
  if (!found) throw new Error(`the AD preset defines ${name}`);
  return found;
}
const users = resourceType('User');
const groups = resourceType('Group');

const GUID_A = '2b25285f-8cfc-4a25-83b6-9c04d6a4fbd3';
const GUID_B = '0e1b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
const aliceDn = 'CN=alice,CN=Users,DC=example,DC=test';
const alice: Record<string, string[]> = {
  samaccountname: ['alice'],
  displayname: ['Alice'],
  title: ['Dr'],
  useraccountcontrol: ['512'],
};
const userEntry = (attributes: Record<string, string[]>, dn = aliceDn): DirEntry => ({ dn, attributes });
const told = attributeDigests(users, userEntry(alice));

function changed(entry: DirEntry, extra: Partial<AdChangedEntry> = {}): AdChangedEntry {
  return { rt: users, entry, created: false, digests: attributeDigests(users, entry), ...extra };
}
const summary = (list: ReturnType<typeof entryChanges>) =>
  list.map((c) => [c.change, c.changedAttributes, c.memberIds ?? []]);

describe('an Active Directory entry that changed, against what the feed saw of it', () => {
  it.each([
    ['a changed title', { ...alice, title: ['Prof'] }, aliceDn, [['updated', ['title'], []]]],
    ['a removed displayName', { ...alice, displayname: [] }, aliceDn, [['updated', ['displayName'], []]]],
    ['nothing mapped changed', { ...alice, description: ['x'] }, aliceDn, []],
    ['a password (never digested)', { ...alice, unicodepwd: ['"secret"'] }, aliceDn, []],
    [
      'ACCOUNTDISABLE set',
      { ...alice, useraccountcontrol: ['514'] },
      aliceDn,
      [['deactivated', ['active'], []]],
    ],
    ['ACCOUNTDISABLE cleared', { ...alice, useraccountcontrol: ['512'] }, aliceDn, []],
    [
      'a rename (same objectGUID, new DN)',
      alice,
      'CN=alicia,CN=Users,DC=example,DC=test',
      [['updated', ['userName'], []]],
    ],
    ['the DN in other letter case', alice, aliceDn.toUpperCase(), []],
  ])('%s', (_, attributes, dn, expected) => {
    const result = entryChanges(changed(userEntry(attributes, dn)), {
      digests: told,
      state: { dn: dnHash(aliceDn) },
    });
    expect(summary(result)).toEqual(expected);
  });

  it('a new entry is created, naming what it holds', () => {
    const result = entryChanges(changed(userEntry(alice), { created: true }), {});
    expect(result).toHaveLength(1);
    expect(result[0]?.change).toBe('created');
    expect(result[0]?.changedAttributes).toEqual(
      expect.arrayContaining(['userName', 'displayName', 'title']),
    );
  });

  it('a new entry read a second time (the next window) is not created again', () => {
    const result = entryChanges(changed(userEntry(alice), { created: true }), {
      digests: told,
      state: { dn: dnHash(aliceDn) },
    });
    expect(result).toEqual([]);
  });

  it('an entry changed that no service was told about: every attribute it holds is named', () => {
    const result = entryChanges(changed(userEntry(alice)), {});
    expect(result.map((c) => c.change)).toEqual(['updated']);
    expect(result[0]?.changedAttributes).toEqual(Object.keys(told).sort());
  });

  it('an unreadable userAccountControl is an update, not a deactivation', () => {
    const result = entryChanges(changed(userEntry({ ...alice, useraccountcontrol: ['not a number'] })), {
      digests: told,
    });
    expect(summary(result)).toEqual([['updated', ['active'], []]]);
  });
});

describe('membership changes from the member ids kept for a group', () => {
  const groupDn = 'CN=eng,OU=Groups,DC=example,DC=test';
  const memberDn = (name: string) => `CN=${name},CN=Users,DC=example,DC=test`;
  const groupEntry = (members: string[]): DirEntry => ({
    dn: groupDn,
    attributes: { cn: ['eng'], member: members },
  });
  const before = (members: string[], ids: string[]) => ({
    digests: attributeDigests(groups, groupEntry(members)),
    state: { dn: dnHash(groupDn), members: ids },
  });
  const now = (members: string[], ids: string[]): AdChangedEntry => ({
    rt: groups,
    entry: groupEntry(members),
    created: false,
    digests: attributeDigests(groups, groupEntry(members)),
    memberIds: ids,
  });

  it.each([
    ['one added', [], [], [memberDn('a')], [GUID_A], [['member_added', ['members'], [GUID_A]]]],
    ['one removed', [memberDn('a')], [GUID_A], [], [], [['member_removed', ['members'], [GUID_A]]]],
    [
      'one swapped for another',
      [memberDn('a')],
      [GUID_A],
      [memberDn('b')],
      [GUID_B],
      [
        ['member_added', ['members'], [GUID_B]],
        ['member_removed', ['members'], [GUID_A]],
      ],
    ],
    ['the same members', [memberDn('a')], [GUID_A], [memberDn('a')], [GUID_A], []],
  ])('%s', (_, oldDns, oldIds, newDns, newIds, expected) => {
    expect(summary(entryChanges(now(newDns, newIds), before(oldDns, oldIds)))).toEqual(expected);
  });

  it('without kept member ids the member list is named as an update (the delta is unknown)', () => {
    const result = entryChanges(now([memberDn('a')], [GUID_A]), {
      digests: attributeDigests(groups, groupEntry([])),
    });
    expect(summary(result)).toEqual([['updated', ['members'], []]]);
  });
});

describe('member values read with the extended DN control', () => {
  const guidHex = (guid: string) => {
    const hex = guid.replaceAll('-', '');
    const swap = (s: string) => s.match(/../g)?.reverse().join('') ?? '';
    return swap(hex.slice(0, 8)) + swap(hex.slice(8, 12)) + swap(hex.slice(12, 16)) + hex.slice(16);
  };
  it.each([
    ['GUID and SID', [`<GUID=${guidHex(GUID_A)}>;<SID=010500000000>;CN=a,DC=x`], [GUID_A]],
    ['GUID only', [`<GUID=${guidHex(GUID_B).toUpperCase()}>;CN=b,DC=x`], [GUID_B]],
    ['a plain DN (control ignored)', ['CN=a,DC=x'], []],
    ['a short GUID', ['<GUID=abcd>;CN=a'], []],
    ['a GUID not at the start', ['CN=<GUID=00000000000000000000000000000000>'], []],
    ['nothing', [], []],
  ])('%s', (_, values, expected) => {
    expect(memberGuids(values)).toEqual(expected);
  });
});

describe("a tombstone's resource type", () => {
  it.each([
    ['a user deleted from CN=Users', 'CN=Users,DC=example,DC=test', ['top', 'person', 'user'], 'User'],
    ['a group deleted from OU=Groups', 'OU=Groups,DC=example,DC=test', ['top', 'group'], 'Group'],
    ['a group below OU=Groups (scope sub)', 'OU=Eng,OU=Groups,DC=example,DC=test', ['group'], 'Group'],
    [
      'a group deleted from CN=Users (not a user)',
      'CN=Users,DC=example,DC=test',
      ['top', 'group'],
      undefined,
    ],
    ['a computer elsewhere', 'CN=Computers,DC=example,DC=test', ['computer', 'user'], undefined],
    ['a parent outside every base', 'OU=Else,DC=example,DC=test', ['user'], undefined],
  ])('%s', (_, parent, classes, expected) => {
    expect(tombstoneResourceType(mappings.resourceTypes, parent, classes)?.name).toBe(expected);
  });
});

describe('the position: one DC, one USN', () => {
  const dc = { invocationId: GUID_A, usn: 4000 };
  it.each([
    ['nothing stored', undefined, 'first'],
    ['the same DC, behind', { invocationId: GUID_A, usn: 3990 }, 'follow'],
    ['the same DC, caught up', { invocationId: GUID_A, usn: 4000 }, 'follow'],
    [
      'the same DC, a USN it has not reached (restored)',
      { invocationId: GUID_A, usn: 4001 },
      'usn-backwards',
    ],
    ['another DC (or a restore: new invocationId)', { invocationId: GUID_B, usn: 10 }, 'other-dc'],
  ] as const)('%s', (_, stored, expected) => {
    expect(positionVerdict(stored, dc)).toBe(expected);
  });

  it.each([
    ['round trip', encodeAdPosition(dc), dc],
    ['an accesslog position', '20261205005233.835770Z', undefined],
    ['no USN', `usn:${GUID_A}:`, undefined],
    ['a negative USN', `usn:${GUID_A}:-5`, undefined],
    ['a USN past 2^53', `usn:${GUID_A}:9999999999999999`, undefined],
    ['not a GUID', 'usn:dc1:5', undefined],
    ['empty', '', undefined],
  ])('decodes %s', (_, text, expected) => {
    expect(decodeAdPosition(text)).toEqual(expected);
  });

  it('event ids are stable per (DC, USN, entry, index, what the event says) and differ otherwise', () => {
    const updated = { change: 'updated' as const, changedAttributes: ['title'] };
    const id = adEventId(GUID_A, 7, GUID_B, 0, updated);
    expect(adEventId(GUID_A, 7, GUID_B, 0, { ...updated })).toBe(id);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    const others = [
      adEventId(GUID_B, 7, GUID_B, 0, updated),
      adEventId(GUID_A, 8, GUID_B, 0, updated),
      adEventId(GUID_A, 7, GUID_A, 0, updated),
      adEventId(GUID_A, 7, GUID_B, 1, updated),
      adEventId(GUID_A, 7, GUID_B, 0, { ...updated, changedAttributes: ['title', 'displayName'] }),
      adEventId(GUID_A, 7, GUID_B, 0, { change: 'created', changedAttributes: ['title'] }),
      adEventId(GUID_A, 7, GUID_B, 0, {
        change: 'member_removed',
        changedAttributes: ['members'],
        memberIds: [GUID_A],
      }),
      adEventId(GUID_A, 7, GUID_B, 0, {
        change: 'member_removed',
        changedAttributes: ['members'],
        memberIds: [GUID_B],
      }),
    ];
    expect(new Set([id, ...others]).size).toBe(others.length + 1);
  });
});

describe("the USN of the bridge's own write, from its meta.version", () => {
  it.each([
    ['a weak ETag', 'W/"4012"', '4012'],
    ['a plain number', '4012', '4012'],
    ['a quoted number', '"4012"', '4012'],
    ['an entryCSN (not AD)', '20261205005233.835770Z#000000#000#000000', ANY_USN],
    ['nothing', undefined, ANY_USN],
    ['empty', '', ANY_USN],
    ['digits in the middle', 'W/"12a3"', ANY_USN],
  ])('%s', (_, version, expected) => {
    expect(usnOfVersion(version)).toBe(expected);
  });
});

describe('a GUID as the <GUID=hex> base AD accepts', () => {
  it.each([GUID_A, GUID_B, GUID_A.toUpperCase()])('%s round-trips through the stored bytes', (guid) => {
    const hex = guidToHex(guid);
    expect(hex).toMatch(/^[0-9a-f]{32}$/);
    expect(guidToString(Buffer.from(hex ?? '', 'hex'))).toBe(guid.toLowerCase());
  });
  it.each([
    '',
    'not-a-guid',
    `${GUID_A}0`,
    GUID_A.replaceAll('-', ''),
    '<GUID=00>',
    `${GUID_A.slice(0, -1)}g`,
  ])('refuses %j', (text) => {
    expect(guidToHex(text)).toBeUndefined();
  });
});

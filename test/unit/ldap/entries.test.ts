/** ldapts entries -> DirEntry: names folded, values in arrays, binary values as bytes, AD ranges noted. */
import type { Entry } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { lowerCaseSet, pendingRangesOf, toDirEntry } from '../../../src/ldap/entries.ts';

const NONE = new Set<string>();

describe('toDirEntry', () => {
  const cases: [string, Entry, ReadonlySet<string>, Record<string, unknown[]>][] = [
    ['a single value becomes a one-element array', { dn: 'uid=a', uid: 'a' }, NONE, { uid: ['a'] }],
    ['several values stay in order', { dn: 'uid=a', mail: ['x@y', 'z@y'] }, NONE, { mail: ['x@y', 'z@y'] }],
    [
      'a requested but absent attribute ([]) is left out',
      { dn: 'uid=a', uid: 'a', title: [] },
      NONE,
      { uid: ['a'] },
    ],
    ['names are lower-cased (RFC 4512 §1.4)', { dn: 'uid=a', entryUUID: 'u' }, NONE, { entryuuid: ['u'] }],
    [
      'binary attributes given as text become bytes',
      { dn: 'cn=a', objectGUID: 'abc' },
      new Set(['objectguid']),
      { objectguid: [Buffer.from('abc')] },
    ],
    [
      'binary attributes given as bytes stay bytes',
      { dn: 'cn=a', objectGUID: [Buffer.from([1, 2])] },
      new Set(['objectguid']),
      { objectguid: [Buffer.from([1, 2])] },
    ],
    [
      'a ranged name goes under the plain name',
      { dn: 'cn=g', 'member;range=0-1': ['cn=a', 'cn=b'] },
      NONE,
      { member: ['cn=a', 'cn=b'] },
    ],
    [
      'the same attribute under two spellings is merged',
      { dn: 'cn=g', member: ['cn=a'], 'Member;range=1-*': ['cn=b'] },
      NONE,
      { member: ['cn=a', 'cn=b'] },
    ],
    [
      'a name with an option that is not a range is kept whole',
      { dn: 'cn=a', 'cn;lang-de': 'x' },
      NONE,
      { 'cn;lang-de': ['x'] },
    ],
  ];
  it.each(cases)('%s', (_name, raw, binary, attributes) => {
    const entry = toDirEntry(raw, binary);
    expect(entry.dn).toBe(raw.dn);
    expect(entry.attributes).toEqual(attributes);
  });

  it('notes the values still to fetch for a ranged attribute, and none otherwise', () => {
    const ranged = toDirEntry({ dn: 'cn=g', 'member;range=0-1499': ['cn=a'] }, NONE);
    expect(pendingRangesOf(ranged)).toEqual([{ attribute: 'member', next: 1500 }]);
    const last = toDirEntry({ dn: 'cn=g', 'member;range=1500-*': ['cn=a'] }, NONE);
    expect(pendingRangesOf(last)).toEqual([]);
    expect(pendingRangesOf(toDirEntry({ dn: 'cn=g', member: 'cn=a' }, NONE))).toEqual([]);
  });

  it('copies value arrays: changing the entry leaves the raw result alone', () => {
    const raw: Entry = { dn: 'uid=a', mail: ['x@y'] };
    toDirEntry(raw, NONE).attributes.mail?.push('other');
    expect(raw.mail).toEqual(['x@y']);
  });
});

describe('lowerCaseSet', () => {
  it('folds names and answers the same set for the same list', () => {
    const names = ['objectGUID', 'msDS-ConsistencyGuid'];
    const set = lowerCaseSet(names);
    expect([...set]).toEqual(['objectguid', 'msds-consistencyguid']);
    expect(lowerCaseSet(names)).toBe(set);
    expect(lowerCaseSet(undefined).size).toBe(0);
    expect(lowerCaseSet([]).size).toBe(0);
  });
});

/**
 * AD ranged retrieval (`member;range=0-1499`) in the LDAP adapter, against an in-memory stand-in
 * that answers exactly as Active Directory does (MS-ADTS §3.1.1.3.1.3.3). Samba AD DC applies
 * ranges only when the client asks for one (it does not cap plain reads at MaxValRange), so the
 * unsolicited first window of real AD is imitated here; ad.test.ts runs the follow-up reads
 * against Samba itself. Runs always (no server needed).
 */
import type { Entry } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { toDirEntry } from '../../../src/ldap/entries.ts';
import { completeRanges, MAX_RANGE_ROUNDS, type RangeReader } from '../../../src/ldap/ranges.ts';
import { UnavailableError } from '../../../src/ports/errors.ts';

const DN = 'CN=big,OU=Groups,DC=example,DC=test';
const members = (n: number) => Array.from({ length: n }, (_, i) => `CN=u${i},CN=Users,DC=example,DC=test`);

/** AD's answer to a read of `attribute` (plain or `name;range=low-high|*`) over `all` values. */
function adAnswer(all: string[], attribute: string, maxValRange = 1500): Entry {
  const match = /^([^;]+)(?:;range=(\d+)-(\d+|\*))?$/i.exec(attribute);
  if (!match) throw new Error(`bad attribute ${attribute}`);
  const [, name = '', lowText, highText] = match;
  const low = lowText === undefined ? 0 : Number(lowText);
  const askedHigh = highText === undefined || highText === '*' ? Number.POSITIVE_INFINITY : Number(highText);
  const high = Math.min(askedHigh, low + maxValRange - 1, all.length - 1);
  const values = all.slice(low, high + 1);
  // Unranged and everything fits: the plain name. Otherwise a window, `*` when it reaches the end.
  if (lowText === undefined && high === all.length - 1) return { dn: DN, [name]: values };
  const last = high === all.length - 1;
  return { dn: DN, [`${name};range=${low}-${last ? '*' : high}`]: values };
}

function fakeAd(all: string[], maxValRange = 1500): { read: RangeReader; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    read: async (dn, attribute) => {
      expect(dn).toBe(DN);
      asked.push(attribute);
      return adAnswer(all, attribute, maxValRange);
    },
  };
}

describe('AD ranged attribute retrieval', () => {
  it('follows member;range=0-1499 to the end: 4000 values in 3 windows, in order, under the plain name', async () => {
    const all = members(4000);
    const { read, asked } = fakeAd(all);
    const entry = toDirEntry({ ...adAnswer(all, 'member'), cn: 'big' }, new Set());
    expect(entry.attributes.member).toHaveLength(1500);
    await completeRanges([entry], read, new Set());
    expect(asked).toEqual(['member;range=1500-*', 'member;range=3000-*']);
    expect(entry.attributes.member).toEqual(all);
    expect(entry.attributes.cn).toEqual(['big']);
    expect(Object.keys(entry.attributes).sort()).toEqual(['cn', 'member']);
    // Completed once: a second pass reads nothing more.
    await completeRanges([entry], read, new Set());
    expect(asked).toHaveLength(2);
  });

  it('exactly one full window plus nothing: 1501 values', async () => {
    const all = members(1501);
    const { read, asked } = fakeAd(all);
    const entry = toDirEntry(adAnswer(all, 'member'), new Set());
    await completeRanges([entry], read, new Set());
    expect(asked).toEqual(['member;range=1500-*']);
    expect(entry.attributes.member).toEqual(all);
  });

  it('a group within the cap is one read', async () => {
    const all = members(1500);
    const { read, asked } = fakeAd(all);
    const entry = toDirEntry(adAnswer(all, 'member'), new Set());
    await completeRanges([entry], read, new Set());
    expect(asked).toEqual([]);
    expect(entry.attributes.member).toEqual(all);
  });

  it('members removed between windows: stops at what is left', async () => {
    const all = members(2000);
    const entry = toDirEntry(adAnswer(all, 'member'), new Set());
    // Meanwhile the group shrank to 1000 values: AD answers the next window with an empty range.
    await completeRanges([entry], async (_dn, attribute) => ({ dn: DN, [attribute]: [] }), new Set());
    expect(entry.attributes.member).toHaveLength(1500);
  });

  it('a server whose range never advances fails instead of looping', async () => {
    const entry = toDirEntry({ dn: DN, 'member;range=0-0': ['a'] }, new Set());
    let reads = 0;
    const stuck: RangeReader = async () => {
      reads++;
      return { dn: DN, 'member;range=1-0': [] };
    };
    await expect(completeRanges([entry], stuck, new Set())).rejects.toBeInstanceOf(UnavailableError);
    expect(reads).toBe(1);
  });

  it('a server that never ends the range fails after MAX_RANGE_ROUNDS reads', async () => {
    const entry = toDirEntry({ dn: DN, 'member;range=0-0': ['v0'] }, new Set());
    let reads = 0;
    const endless: RangeReader = async (_dn, attribute) => {
      reads++;
      const low = Number(/range=(\d+)/.exec(attribute)?.[1]);
      return { dn: DN, [`member;range=${low}-${low}`]: [`v${low}`] };
    };
    await expect(completeRanges([entry], endless, new Set())).rejects.toThrow(/still incomplete/);
    expect(reads).toBe(MAX_RANGE_ROUNDS);
  });

  it('an entry that disappears mid-read is an error, not a silently short list', async () => {
    const entry = toDirEntry({ dn: DN, 'member;range=0-1499': members(1500) }, new Set());
    await expect(completeRanges([entry], async () => undefined, new Set())).rejects.toThrow(/disappeared/);
  });
});

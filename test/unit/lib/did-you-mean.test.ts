import { describe, expect, it } from 'vitest';
import { defaultMaxDistance, didYouMean, editDistance, nearestNames } from '../../../src/lib/did-you-mean.ts';

describe('editDistance (optimal string alignment)', () => {
  it.each([
    ['', '', 0],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['mail', 'mail', 0],
    ['mail', 'mial', 1], // adjacent swap
    ['mail', 'mai', 1], // deletion
    ['mail', 'mails', 1], // insertion
    ['mail', 'mall', 1], // substitution
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3], // OSA: a swapped pair is not edited again
    ['Mail', 'mail', 1], // the distance itself is case-sensitive; callers compare lower case
  ])('%j -> %j is %i', (a, b, expected) => {
    expect(editDistance(a, b)).toBe(expected);
    expect(editDistance(b, a)).toBe(expected);
  });
});

describe('defaultMaxDistance', () => {
  it.each([
    ['sn', 1],
    ['mail', 1],
    ['userName', 2],
    ['displayName', 3],
    ['aVeryLongAttributeName', 3],
  ])('%j reaches %i edit(s)', (word, expected) => {
    expect(defaultMaxDistance(word)).toBe(expected);
  });
});

describe('nearestNames', () => {
  it.each<[string, string[], { maxDistance?: number; limit?: number }, string[]]>([
    ['mial', [], {}, []], // no candidates
    ['mial', ['mail', 'cn'], {}, ['mail']],
    ['MIAL', ['mail'], {}, ['mail']], // case-insensitive, candidate spelling kept
    ['mail', ['Mail', 'MAIL'], { limit: 3 }, ['Mail']], // case twins count once, first spelling wins
    ['cn', ['sn', 'cn'], {}, ['cn']], // exact match beats a near one
    ['xn', ['sn', 'cn'], {}, ['sn']], // a tie keeps the candidates' order
    ['xn', ['sn', 'cn'], { limit: 3 }, ['sn', 'cn']], // all equally near, up to limit
    ['xn', ['sn', 'cn', 'dn', 'on'], { limit: 3 }, ['sn', 'cn', 'dn']],
    ['sn', ['st'], {}, ['st']], // one edit is within reach of a short name
    ['sn', ['ou'], {}, []], // two edits are not (default reach is 1 for two letters)
    ['sn', ['ou'], { maxDistance: 2 }, ['ou']],
    ['telephoneNumber', ['mobile', 'pager'], {}, []], // far names are refused
    ['displayNmae', ['displayName', 'givenName'], {}, ['displayName']],
  ])('%j among %j (%j) -> %j', (word, candidates, options, expected) => {
    expect(nearestNames(word, candidates, options)).toEqual(expected);
  });

  it('accepts any iterable', () => {
    expect(nearestNames('mial', new Set(['mail']))).toEqual(['mail']);
    expect(nearestNames('mial', new Map([['mail', 1]]).keys())).toEqual(['mail']);
  });
});

describe('didYouMean', () => {
  it.each<[string, string[], number | undefined, string | undefined]>([
    ['mial', [], undefined, undefined],
    ['mial', ['mail'], undefined, 'mail'],
    ['xn', ['sn', 'cn'], undefined, 'sn'], // first of a tie
    ['ldap.ulr', ['ldap.url', 'ldap.bindDn'], 2, 'ldap.url'],
    ['logLevel', ['ldap.url'], 2, undefined], // a threshold refuses far matches
    ['USERNAME', ['userName'], 0, 'userName'], // case differences cost nothing
  ])('%j among %j (max %j) -> %j', (word, candidates, maxDistance, expected) => {
    expect(didYouMean(word, candidates, maxDistance)).toBe(expected);
  });
});

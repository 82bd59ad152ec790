/**
 * src/lib/dn.ts against RFC 4514 corner cases. Every expected value is written out; DNs are in
 * String.raw so that a backslash in the table is one backslash in the DN.
 */
import { describe, expect, it } from 'vitest';
import {
  type AttributeTypeAndValue,
  DnSyntaxError,
  escapeDnValue,
  firstRdn,
  isUnder,
  normalizeDn,
  parentDn,
  parseDn,
  rdnValueChanged,
  sameDn,
  splitFirstRdn,
  tryParseDn,
} from '../../../src/lib/dn.ts';

const r = String.raw;
const pair = (type: string, value: string): AttributeTypeAndValue => ({ type, value });
const ber = (type: string, value: string): AttributeTypeAndValue => ({ type, value, ber: true });

describe('parseDn', () => {
  // [DN, its RDNs]
  const cases: [string, AttributeTypeAndValue[][]][] = [
    ['', []],
    ['   ', []],
    ['dc=example', [[pair('dc', 'example')]]],
    [
      'uid=alice,ou=people,dc=example,dc=com',
      [[pair('uid', 'alice')], [pair('ou', 'people')], [pair('dc', 'example')], [pair('dc', 'com')]],
    ],
    // Escaped specials.
    [r`cn=Smith\, John,dc=x`, [[pair('cn', 'Smith, John')], [pair('dc', 'x')]]],
    [r`cn=a\+b,dc=x`, [[pair('cn', 'a+b')], [pair('dc', 'x')]]],
    [r`cn=back\\slash,dc=x`, [[pair('cn', r`back\slash`)], [pair('dc', 'x')]]],
    [r`cn=\#1,dc=x`, [[pair('cn', '#1')], [pair('dc', 'x')]]],
    [r`cn=say \"hi\",dc=x`, [[pair('cn', 'say "hi"')], [pair('dc', 'x')]]],
    [r`cn=\<a\>\;\=,dc=x`, [[pair('cn', '<a>;=')], [pair('dc', 'x')]]],
    // An escaped backslash before a comma: the comma separates two RDNs.
    [r`cn=a\\,ou=x`, [[pair('cn', 'a\\')], [pair('ou', 'x')]]],
    // An escaped backslash before an escaped comma: one RDN.
    [r`cn=a\\\,b,ou=x`, [[pair('cn', r`a\,b`)], [pair('ou', 'x')]]],
    // Unescaped "=" and "#" inside a value are allowed (RFC 4514 §3).
    ['cn=a=b#c,dc=x', [[pair('cn', 'a=b#c')], [pair('dc', 'x')]]],
    // Hex pairs, either case, multi-byte UTF-8.
    [r`cn=a\2Cb,dc=x`, [[pair('cn', 'a,b')], [pair('dc', 'x')]]],
    [r`cn=a\2cb,dc=x`, [[pair('cn', 'a,b')], [pair('dc', 'x')]]],
    [r`cn=Ren\c3\a9,dc=x`, [[pair('cn', 'René')], [pair('dc', 'x')]]],
    [r`cn=Ren\C3\A9e,dc=x`, [[pair('cn', 'Renée')], [pair('dc', 'x')]]],
    [r`cn=\e2\82\ac\5C,dc=x`, [[pair('cn', '€\\')], [pair('dc', 'x')]]],
    ['cn=René,dc=x', [[pair('cn', 'René')], [pair('dc', 'x')]]],
    // Multi-valued RDNs keep their written order.
    ['cn=a+sn=b,dc=x', [[pair('cn', 'a'), pair('sn', 'b')], [pair('dc', 'x')]]],
    ['sn=b+cn=a,dc=x', [[pair('sn', 'b'), pair('cn', 'a')], [pair('dc', 'x')]]],
    // Leading "#": the hex of a BER encoding, kept as written.
    ['cn=#04024869,dc=x', [[ber('cn', '#04024869')], [pair('dc', 'x')]]],
    ['1.3.6.1.4.1.1466.0=#04024869', [[ber('1.3.6.1.4.1.1466.0', '#04024869')]]],
    ['cn=#04AB + sn=b', [[ber('cn', '#04AB'), pair('sn', 'b')]]],
    // Escaped leading and trailing spaces belong to the value; unescaped ones do not.
    [r`cn=\ a\ ,dc=x`, [[pair('cn', ' a ')], [pair('dc', 'x')]]],
    [r`cn=a\20,dc=x`, [[pair('cn', 'a ')], [pair('dc', 'x')]]],
    [r`cn=a \ ,dc=x`, [[pair('cn', 'a  ')], [pair('dc', 'x')]]],
    ['cn=John  Smith,dc=x', [[pair('cn', 'John  Smith')], [pair('dc', 'x')]]],
    // Spaces around separators, as older servers write (RFC 2253 §4).
    [
      ' cn = a , ou = b + sn = c ,dc=x ',
      [[pair('cn', 'a')], [pair('ou', 'b'), pair('sn', 'c')], [pair('dc', 'x')]],
    ],
    // Empty values.
    ['cn=,dc=x', [[pair('cn', '')], [pair('dc', 'x')]]],
    // Types keep their case; an OID is a type.
    ['CN=A,2.5.4.11=B', [[pair('CN', 'A')], [pair('2.5.4.11', 'B')]]],
  ];
  it.each(cases)('%s', (dn, rdns) => {
    expect(parseDn(dn)).toEqual(rdns);
    expect(tryParseDn(dn)).toEqual(rdns);
  });

  // [malformed DN, offset where parsing stops]
  const malformed: [string, number][] = [
    ['cn', 2],
    ['cn=a,dc', 7],
    ['cn=a,,dc=x', 5],
    ['cn=a,', 5],
    ['=a', 0],
    ['c n=a', 0],
    ['cn;lang-en=a', 0],
    ['1.2.=a', 0],
    ['cn=a\\', 4],
    [r`cn=a\q,dc=x`, 4],
    [r`cn=a\4,dc=x`, 4],
    [r`cn=a\4g,dc=x`, 4],
    [r`cn=\c3,dc=x`, 6],
    [r`cn=\ff\fe`, 9],
    ['cn=a"b', 4],
    ['cn=a;b', 4],
    ['cn=<a>', 3],
    ['cn=#', 4],
    ['cn=#0', 4],
    ['cn=#04 x', 7],
    ['cn=#zz', 4],
  ];
  it.each(malformed)('%s is malformed (offset %i)', (dn, offset) => {
    expect(tryParseDn(dn)).toBeUndefined();
    let thrown: unknown;
    try {
      parseDn(dn);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DnSyntaxError);
    expect((thrown as DnSyntaxError).offset).toBe(offset);
  });
});

describe('escapeDnValue', () => {
  const cases: [string, string][] = [
    ['plain', 'plain'],
    ['Smith, John', r`Smith\, John`],
    ['a+b="c";<d>', r`a\+b\=\"c\"\;\<d\>`],
    [r`back\slash`, r`back\\slash`],
    ['#1', r`\#1`],
    ['a#1', 'a#1'],
    [' lead and trail ', r`\ lead and trail\ `],
    ['nul\u0000', r`nul\00`],
    ['René', 'René'],
  ];
  it.each(cases)('%j -> %s', (value, escaped) => {
    expect(escapeDnValue(value)).toBe(escaped);
    expect(parseDn(`cn=${escaped}`)).toEqual([[pair('cn', value)]]);
  });
});

describe('splitFirstRdn and parentDn', () => {
  // [DN, first RDN as written, parent as written]
  const cases: [string, string, string][] = [
    ['uid=a,ou=people,dc=x', 'uid=a', 'ou=people,dc=x'],
    [r`cn=Smith\, John,dc=x`, r`cn=Smith\, John`, 'dc=x'],
    [r`cn=a\\,ou=x`, r`cn=a\\`, 'ou=x'],
    [r`cn=a\2C b,ou=x`, r`cn=a\2C b`, 'ou=x'],
    ['cn=a , ou=x', 'cn=a', 'ou=x'],
    ['cn=a+sn=b,dc=x', 'cn=a+sn=b', 'dc=x'],
    ['dc=x', 'dc=x', ''],
    ['', '', ''],
    // Malformed DNs split the same way.
    ['cn=a,,x', 'cn=a', ',x'],
  ];
  it.each(cases)('%s', (dn, rdn, parent) => {
    expect(splitFirstRdn(dn)).toEqual([rdn, parent]);
    expect(parentDn(dn)).toBe(parent);
  });
});

describe('firstRdn', () => {
  it.each([
    ['uid=alice,dc=x', [pair('uid', 'alice')]],
    ['sn=b+cn=a,dc=x', [pair('sn', 'b'), pair('cn', 'a')]],
    [r`cn=a\\,dc=x`, [pair('cn', 'a\\')]],
    ['', undefined],
    ['cn=a,,dc=x', undefined],
  ] as [string, AttributeTypeAndValue[] | undefined][])('%s', (dn, rdn) => {
    expect(firstRdn(dn)).toEqual(rdn);
  });
});

describe('normalizeDn', () => {
  const cases: [string, string][] = [
    ['', ''],
    ['UID=Alice,OU=People,DC=Example', 'uid=alice,ou=people,dc=example'],
    [' cn = John   Smith , dc = x ', 'cn=john smith,dc=x'],
    ['sn=B+cn=A,dc=x', 'cn=a+sn=b,dc=x'],
    [r`cn=Smith\2C John,dc=x`, r`cn=smith\, john,dc=x`],
    [r`cn=Ren\C3\A9,dc=x`, 'cn=rené,dc=x'],
    [r`cn=\ a\ ,dc=x`, 'cn=a,dc=x'],
    [r`cn=a\\,ou=x`, r`cn=a\\,ou=x`],
    ['cn=#04AB,dc=x', 'cn=#04ab,dc=x'],
    [r`cn=\#04AB,dc=x`, r`cn=\#04ab,dc=x`],
    // Malformed: its loose text (lower case, no spaces around separators).
    ['CN = A ,, DC = X', 'cn=a,,dc=x'],
  ];
  it.each(cases)('%s -> %s', (dn, normalized) => {
    expect(normalizeDn(dn)).toBe(normalized);
  });
});

describe('sameDn', () => {
  // [a, b, same]
  const cases: [string, string, boolean][] = [
    ['uid=alice,dc=x', 'uid=alice,dc=x', true],
    ['uid=alice,dc=x', 'UID=Alice,DC=X', true],
    ['uid=alice,dc=x', 'uid = alice , dc = x', true],
    ['cn=John Smith,dc=x', 'cn=john   smith,dc=x', true],
    ['cn=a+sn=b,dc=x', 'SN=B + CN=A,dc=x', true],
    [r`cn=Smith\, John,dc=x`, r`cn=smith\2c john,dc=x`, true],
    [r`cn=Smith\, John,dc=x`, r`cn=Smith\2C John,dc=x`, true],
    [r`cn=Ren\c3\a9,dc=x`, 'cn=RENÉ,dc=x', true],
    [r`cn=a\,b,dc=x`, 'cn=a,b,dc=x', false],
    [r`cn=a\\,ou=x`, r`cn=a\,ou=x`, false],
    ['cn=a+sn=b,dc=x', 'cn=a,sn=b,dc=x', false],
    ['cn=a,dc=x', 'cn=a,dc=y', false],
    ['cn=a,dc=x', 'sn=a,dc=x', false],
    ['cn=a,dc=x', '2.5.4.3=a,dc=x', false],
    ['cn=#04024869,dc=x', 'cn=#04024869,dc=x', true],
    ['cn=#04AB,dc=x', 'cn=#04ab,dc=x', true],
    ['cn=#04AB,dc=x', r`cn=\#04AB,dc=x`, false],
    ['', '', true],
    ['', 'dc=x', false],
    // Malformed DNs compare by their loose text.
    ['cn=a,,dc=x', 'CN=A , , DC=X', true],
    ['cn=a,,dc=x', 'cn=a,dc=x', false],
  ];
  it.each(cases)('%s vs %s: %s', (a, b, same) => {
    expect(sameDn(a, b)).toBe(same);
    expect(sameDn(b, a)).toBe(same);
  });
});

describe('isUnder', () => {
  // [dn, base, under]
  const cases: [string, string, boolean][] = [
    ['uid=a,ou=people,dc=x', 'ou=people,dc=x', true],
    ['uid=a,ou=people,dc=x', 'OU=People, DC=X', true],
    ['uid=a,ou=people,dc=x', 'dc=x', true],
    ['ou=people,dc=x', 'ou=people,dc=x', true],
    ['uid=a,ou=people,dc=x', '', true],
    ['', '', true],
    ['ou=people,dc=x', 'uid=a,ou=people,dc=x', false],
    ['uid=a,ou=otherpeople,dc=x', 'ou=people,dc=x', false],
    ['uid=a,ou=people,dc=x', 'people,dc=x', false],
    // "a\," is a value, not a separator: the DN has one RDN under dc=x, not two.
    [r`uid=a\,ou=people,dc=x`, 'ou=people,dc=x', false],
    [r`cn=x\\,ou=people,dc=x`, 'ou=people,dc=x', true],
    ['cn=a+sn=b,ou=p,dc=x', 'sn=b+cn=a,ou=p,dc=x', true],
    ['cn=c,sn=b+cn=a,dc=x', 'cn=a+sn=b,dc=x', true],
    // Malformed: the loose text ends with the base's.
    ['cn=a,,ou=p,dc=x', 'ou=p,dc=x', true],
    ['cn=a,,ou=p,dc=x', 'ou=q,dc=x', false],
  ];
  it.each(cases)('%s under %s: %s', (dn, base, under) => {
    expect(isUnder(dn, base)).toBe(under);
  });
});

describe('rdnValueChanged', () => {
  // [current DN, new DN, changed]
  const cases: [string, string, boolean][] = [
    ['uid=alice,dc=x', 'uid=alice,dc=x', false],
    ['uid=alice,dc=x', 'uid=alice,dc=y', false],
    ['uid=alice,dc=x', 'UID=alice,dc=x', false],
    ['uid=alice,dc=x', 'uid = alice,dc=x', false],
    ['uid=alice,dc=x', 'uid=Alice,dc=x', true],
    ['uid=alice,dc=x', 'uid=bob,dc=x', true],
    ['cn=John Smith,dc=x', 'cn=John  Smith,dc=x', true],
    [r`cn=Smith\, John,dc=x`, r`cn=Smith\2C John,dc=x`, false],
    [r`cn=Ren\c3\a9,dc=x`, 'cn=René,dc=x', false],
    ['cn=a+sn=b,dc=x', 'sn=b+cn=a,dc=x', false],
    ['cn=a+sn=b,dc=x', 'cn=a+sn=B,dc=x', true],
    ['cn=a,dc=x', 'sn=a,dc=x', true],
    // Malformed: the first RDNs' text as written.
    ['cn=a,,dc=x', 'cn=a,dc=x', false],
    ['cn=a;,dc=x', 'cn=A;,dc=x', true],
  ];
  it.each(cases)('%s -> %s: %s', (current, next, changed) => {
    expect(rdnValueChanged(current, next)).toBe(changed);
  });
});

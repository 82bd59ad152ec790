/**
 * RFC 4515 text for DirFilters (what previews print): escaping per RFC 4515 §3, and round trips
 * through the admin-facing parser.
 */
import { describe, expect, it } from 'vitest';
import { escapeFilterValue, formatLdapFilter, parseLdapFilter } from '../../../src/mapping/ldap-text.ts';
import type { DirFilter } from '../../../src/ports/directory.ts';

describe('formatLdapFilter', () => {
  const cases: [string, DirFilter, string][] = [
    ['equality', { type: 'equal', attribute: 'uid', value: 'alice' }, '(uid=alice)'],
    ['star escaped', { type: 'equal', attribute: 'cn', value: 'a*b' }, '(cn=a\\2ab)'],
    ['parens escaped', { type: 'equal', attribute: 'cn', value: 'x (y)' }, '(cn=x \\28y\\29)'],
    ['backslash escaped', { type: 'equal', attribute: 'cn', value: 'a\\b' }, '(cn=a\\5cb)'],
    ['NUL escaped', { type: 'equal', attribute: 'cn', value: 'a\u0000b' }, '(cn=a\\00b)'],
    ['UTF-8 kept', { type: 'equal', attribute: 'sn', value: 'Müller' }, '(sn=Müller)'],
    [
      'binary escaped byte by byte',
      { type: 'equal', attribute: 'objectGUID', value: Buffer.from([0x00, 0x2a, 0xff]) },
      '(objectGUID=\\00\\2a\\ff)',
    ],
    ['present', { type: 'present', attribute: 'mail' }, '(mail=*)'],
    [
      'substring',
      { type: 'substring', attribute: 'cn', initial: 'a', any: ['b*', 'c'], final: 'd' },
      '(cn=a*b\\2a*c*d)',
    ],
    ['substring any only', { type: 'substring', attribute: 'cn', any: ['x'] }, '(cn=*x*)'],
    ['ge', { type: 'greaterOrEqual', attribute: 'n', value: '5' }, '(n>=5)'],
    ['le', { type: 'lessOrEqual', attribute: 'n', value: '5' }, '(n<=5)'],
    [
      'extensible',
      { type: 'extensible', attribute: 'userAccountControl', rule: '1.2.840.113556.1.4.803', value: '2' },
      '(userAccountControl:1.2.840.113556.1.4.803:=2)',
    ],
    [
      'and/or/not',
      {
        type: 'and',
        filters: [
          { type: 'equal', attribute: 'a', value: '1' },
          {
            type: 'or',
            filters: [
              { type: 'present', attribute: 'b' },
              { type: 'not', filter: { type: 'present', attribute: 'c' } },
            ],
          },
        ],
      },
      '(&(a=1)(|(b=*)(!(c=*))))',
    ],
    ['absolute true', { type: 'true' }, '(&)'],
    ['absolute false', { type: 'false' }, '(|)'],
  ];
  it.each(cases)('%s', (_, filter, text) => {
    expect(formatLdapFilter(filter)).toBe(text);
  });

  it.each(cases.filter(([name]) => !name.startsWith('binary')))(
    '%s round-trips through parseLdapFilter',
    (_, filter) => {
      expect(parseLdapFilter(formatLdapFilter(filter))).toEqual(filter);
    },
  );

  it('escapes nothing else', () => {
    expect(escapeFilterValue('a=b,c;d+e<f>g#h')).toBe('a=b,c;d+e<f>g#h');
  });
});

describe('parseLdapFilter additions', () => {
  it('reads extensible matches and absolute true/false', () => {
    expect(parseLdapFilter('(!(userAccountControl:1.2.840.113556.1.4.803:=2))')).toEqual({
      type: 'not',
      filter: {
        type: 'extensible',
        attribute: 'userAccountControl',
        rule: '1.2.840.113556.1.4.803',
        value: '2',
      },
    });
    expect(parseLdapFilter('(&)')).toEqual({ type: 'true' });
    expect(parseLdapFilter('(|)')).toEqual({ type: 'false' });
  });

  it.each(['(&(a=1)', '(a:1.2:=x(y)', '(a:=x)', '(a:1.2=x)', '(:1.2:=x)', '(!)', '(a=\\zz)', '(&)(a=1)'])(
    'refuses %s',
    (text) => {
      expect(() => parseLdapFilter(text)).toThrow();
    },
  );
});

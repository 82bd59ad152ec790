/** The write notices other instances publish are read from a shared channel: malformed ones are ignored. */
import { describe, expect, it } from 'vitest';
import { parseNotice } from '../../../src/cluster/write-notices.ts';

describe('parseNotice', () => {
  const good = { origin: 'a1', dns: ['uid=x,ou=People,dc=example,dc=com'], sentAt: 1_700_000_000_000.25 };
  it.each([
    ['a notice with one DN', JSON.stringify(good), good],
    [
      'a rename (two DNs)',
      JSON.stringify({ ...good, dns: ['cn=a', 'cn=b'] }),
      { ...good, dns: ['cn=a', 'cn=b'] },
    ],
    ['no DNs', JSON.stringify({ ...good, dns: [] }), { ...good, dns: [] }],
  ])('accepts %s', (_what, text, expected) => {
    expect(parseNotice(text)).toEqual(expected);
  });

  it.each([
    ['not JSON', '{origin'],
    ['null', 'null'],
    ['a string', '"uid=x"'],
    ['an array', '[]'],
    ['no origin', JSON.stringify({ dns: [], sentAt: 1 })],
    ['a numeric origin', JSON.stringify({ ...good, origin: 7 })],
    ['dns not an array', JSON.stringify({ ...good, dns: 'uid=x' })],
    ['a DN that is not a string', JSON.stringify({ ...good, dns: ['uid=x', 3] })],
    ['too many DNs', JSON.stringify({ ...good, dns: Array.from({ length: 17 }, (_, i) => `uid=${i}`) })],
    ['sentAt missing', JSON.stringify({ origin: 'a1', dns: [] })],
    ['sentAt a string', JSON.stringify({ ...good, sentAt: '1' })],
    ['sentAt not finite', '{"origin":"a1","dns":[],"sentAt":1e999}'],
  ])('ignores %s', (_what, text) => {
    expect(parseNotice(text)).toBeUndefined();
  });
});

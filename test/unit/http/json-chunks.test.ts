/**
 * The streaming JSON writer must produce exactly JSON.stringify's text (the reference), whatever
 * the shape: long arrays at the top, inside an object, beside undefined and nested values.
 */
import { describe, expect, it } from 'vitest';
import { jsonChunks } from '../../../src/http/respond.ts';

const member = (i: number) => ({
  value: `id-${i}`,
  $ref: `https://x/Users/id-${i}`,
  display: `"Q" \\ ${i} é`,
});
const long = (n: number) => Array.from({ length: n }, (_, i) => member(i));

const CASES: [string, unknown][] = [
  ['a small object', { a: 1, b: 'two', c: [1, 2, 3], d: null }],
  ['a string', 'plain'],
  ['null', null],
  ['a short array', [1, 'a', { b: 2 }]],
  ['a long top-level array', long(2_001)],
  ['an array one past a slice boundary', long(3_001)],
  [
    'a resource with a long member list',
    { schemas: ['urn:x'], id: 'g', members: long(4_500), meta: { version: 'W/"1"' } },
  ],
  ['undefined keys beside a long list', { a: undefined, members: long(2_500), b: undefined, c: 'x' }],
  ['a long list nested one level down', { outer: { members: long(2_100) }, tail: [] }],
  ['an array at the slicing threshold (one piece)', long(2_000)],
  [
    'a ListResponse page of 500 resources',
    {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 9,
      Resources: long(500),
    },
  ],
  [
    'a long list of mixed values',
    Array.from({ length: 2_222 }, (_, i) => (i % 3 === 0 ? null : i % 3 === 1 ? i : { i })),
  ],
];

describe('jsonChunks', () => {
  it.each(CASES)('%s', (_, value) => {
    const chunks = [...jsonChunks(value)];
    expect(chunks.join('')).toBe(JSON.stringify(value));
  });

  it('writes a long list in several pieces, none of them the whole text', () => {
    const value = { members: long(5_000) };
    const chunks = [...jsonChunks(value)];
    const whole = JSON.stringify(value).length;
    expect(chunks.length).toBeGreaterThan(5);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(whole / 4);
  });
});

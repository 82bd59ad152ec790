/**
 * Request body text (scim/json-text.ts): UTF-8 only (RFC 8259 §8.1), no lone surrogate escapes
 * (§8.2), nesting bounded before JSON.parse; everything else parsed as JSON.parse would.
 */
import { describe, expect, it } from 'vitest';
import { ScimError } from '../../../src/scim/errors.ts';
import { parseJsonBody } from '../../../src/scim/json-text.ts';

const text = (s: string) => Buffer.from(s, 'utf8');
const arrays = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
const objects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

function refusal(bytes: Uint8Array, maxDepth = 64): ScimError {
  try {
    parseJsonBody(bytes, maxDepth);
  } catch (error) {
    if (error instanceof ScimError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('parseJsonBody: accepted', () => {
  it.each([
    ['empty', '', undefined],
    ['blank', ' \n\t', undefined],
    ['an object', '{"userName":"ada"}', { userName: 'ada' }],
    ['64 levels of arrays', arrays(64), JSON.parse(arrays(64))],
    ['64 levels of objects', objects(64), JSON.parse(objects(64))],
    ['brackets inside strings do not count', `{"a":"${'['.repeat(500)}"}`, { a: '['.repeat(500) }],
    ['an escaped quote does not end the string', '{"a":"\\"[[[[","b":[1]}', { a: '"[[[[', b: [1] }],
    ['a surrogate pair escape', '{"a":"\\ud83d\\ude00"}', { a: '😀' }],
    ['a surrogate pair in capitals', '{"a":"\\uD83D\\uDE00"}', { a: '😀' }],
    ['a raw astral character', '{"a":"😀"}', { a: '😀' }],
    ['other escapes', '{"a":"\\u00e9\\n\\\\u0041"}', { a: 'é\n\\u0041' }],
    ['non-ASCII text', '{"a":"zoë.łukasz.日本"}', { a: 'zoë.łukasz.日本' }],
  ])('%s', (_label, body, expected) => {
    expect(parseJsonBody(text(body), 64)).toEqual(expected);
  });
});

describe('parseJsonBody: refused with 400 invalidSyntax', () => {
  it.each([
    ['65 levels of arrays', text(arrays(65)), /deeper than 64 levels/],
    ['65 levels of objects', text(objects(65)), /deeper than 64 levels/],
    ['5,000 levels (a 10 KB body)', text(arrays(5_000)), /deeper than 64 levels/],
    ['deep but unbalanced', text('['.repeat(100)), /deeper than 64 levels/],
    [
      'invalid UTF-8 bytes',
      Buffer.concat([text('{"a":"x'), Buffer.from([0xff, 0xfe]), text('"}')]),
      /not valid UTF-8 at byte 7/,
    ],
    [
      'a truncated sequence',
      Buffer.concat([text('{"a":"'), Buffer.from([0xc3]), text('"}')]),
      /not valid UTF-8/,
    ],
    [
      'an overlong encoding of /',
      Buffer.concat([text('{"a":"'), Buffer.from([0xc0, 0xaf]), text('"}')]),
      /not valid UTF-8/,
    ],
    [
      'an encoded surrogate',
      Buffer.concat([text('{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), text('"}')]),
      /not valid UTF-8/,
    ],
    ['a lone high surrogate escape', text('{"a":"x\\ud800y"}'), /\\ud800 .* lone surrogate/],
    ['a lone low surrogate escape', text('{"a":"\\udc00"}'), /\\udc00 .* lone surrogate/],
    ['a high surrogate at the end', text('{"a":"\\uD800"}'), /lone surrogate/],
    ['two high surrogates', text('{"a":"\\ud800\\ud800"}'), /lone surrogate/],
    ['a high then a plain escape', text('{"a":"\\ud800\\u0041"}'), /lone surrogate/],
    ['in a key', text('{"\\udfff":1}'), /lone surrogate/],
    ['not JSON', text('{"a":'), /not valid JSON/],
  ])('%s', (_label, bytes, detail) => {
    const error = refusal(bytes);
    expect(error.status).toBe(400);
    expect(error.scimType).toBe('invalidSyntax');
    expect(error.detail).toMatch(detail);
  });

  it('the bound is the one given', () => {
    expect(parseJsonBody(text(arrays(8)), 8)).toEqual(JSON.parse(arrays(8)));
    expect(refusal(text(arrays(9)), 8).detail).toMatch(/deeper than 8 levels/);
  });
});

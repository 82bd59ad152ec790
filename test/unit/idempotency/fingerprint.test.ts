/**
 * Idempotency-Key parsing and request fingerprints: bodies that differ only in layout or key order
 * have one fingerprint; anything that changes the request changes it.
 */
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  parseIdempotencyKey,
  requestFingerprint,
} from '../../../src/http/middleware/idempotency.ts';
import { ScimError } from '../../../src/scim/errors.ts';

describe('canonicalJson', () => {
  it.each([
    ['no body', undefined, ''],
    ['null', null, 'null'],
    ['number', 1.0, '1'],
    ['string with escapes', 'a"b\n', '"a\\"b\\n"'],
    ['keys sorted', { b: 1, a: 2 }, '{"a":2,"b":1}'],
    ['nested keys sorted', { z: { y: 1, x: [{ d: 1, c: 2 }] } }, '{"z":{"x":[{"c":2,"d":1}],"y":1}}'],
    ['array order kept', [3, 1, 2], '[3,1,2]'],
    ['unicode kept', { name: 'Zoë' }, '{"name":"Zoë"}'],
    ['upper case sorts before lower case', { b: 1, B: 2, a: 3 }, '{"B":2,"a":3,"b":1}'],
  ])('%s', (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('the same for any layout and key order of the same JSON text', () => {
    const a = JSON.parse(
      '{"userName":"ada","name":{"givenName":"Ada","familyName":"L"},"emails":[{"value":"a@x"}]}',
    );
    const b = JSON.parse(
      '{\n  "emails" : [ { "value" : "a@x" } ],\n  "name": {"familyName":"L",  "givenName":"Ada"},\n\t"userName":"ada"\n}',
    );
    expect(canonicalJson(a)).toBe(canonicalJson(b));
  });
});

describe('canonicalJson depth', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 'x';
    for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
    return value;
  };
  it.each([1, 64, 999])('%i levels canonicalise', (depth) => {
    expect(canonicalJson(nested(depth))).toContain('"x"');
  });
  it.each([1001, 50_000])('%i levels are 400 invalidSyntax, not a stack overflow', (depth) => {
    expect(() => canonicalJson(nested(depth))).toThrow(
      expect.objectContaining({ status: 400, scimType: 'invalidSyntax' }),
    );
  });
});

describe('requestFingerprint', () => {
  const body = { userName: 'ada', active: true };
  const base = requestFingerprint('POST', '/scim/v2/Users', body);

  it('is a sha256 hex digest, stable for reordered keys and the method case', () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(requestFingerprint('post', '/scim/v2/Users', { active: true, userName: 'ada' })).toBe(base);
  });

  it.each([
    ['another method', 'PUT', '/scim/v2/Users', body],
    ['another path', 'POST', '/scim/v2/Groups', body],
    ['another id', 'POST', '/scim/v2/Users/1', body],
    ['a query string', 'POST', '/scim/v2/Users?attributes=id', body],
    ['another value', 'POST', '/scim/v2/Users', { userName: 'ada', active: false }],
    ['a value of another type', 'POST', '/scim/v2/Users', { userName: 'ada', active: 'true' }],
    ['an extra attribute', 'POST', '/scim/v2/Users', { ...body, title: 'x' }],
    ['array order', 'POST', '/scim/v2/Users', { userName: 'ada', active: true, emails: [1, 2] }],
    ['no body', 'POST', '/scim/v2/Users', undefined],
  ])('changes with %s', (_name, method, path, other) => {
    expect(requestFingerprint(method, path, other)).not.toBe(base);
  });

  it('does not confuse path and body boundaries', () => {
    expect(requestFingerprint('POST', '/a', '\n/b')).not.toBe(requestFingerprint('POST', '/a\n', '/b'));
  });
});

describe('parseIdempotencyKey', () => {
  it.each([
    ['a uuid', '6f1c1d6e-8a0e-4c1e-9d47-3f2b1e0a9c11'],
    ['one character', 'x'],
    ['255 characters', 'k'.repeat(255)],
    ['every visible ASCII character', '!"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~'],
  ])('accepts %s', (_name, value) => {
    expect(parseIdempotencyKey(value)).toBe(value);
  });

  it.each([
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['a space', 'a b'],
    ['a tab', 'a\tb'],
    ['a control character', 'a\u0001b'],
    ['DEL', 'a\u007fb'],
    ['non-ASCII', 'clé'],
    ['the header sent twice', ['a', 'b']],
  ])('refuses %s with 400 invalidValue', (_name, value) => {
    let thrown: unknown;
    try {
      parseIdempotencyKey(value);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ScimError);
    expect(thrown).toMatchObject({ status: 400, scimType: 'invalidValue' });
  });
});

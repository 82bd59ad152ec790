import { describe, expect, it } from 'vitest';
import { consolePath, sameSecret } from '../../../src/admin/security.ts';

describe('consolePath: where to go after sign-in', () => {
  it.each<[unknown, string]>([
    ['/admin', '/admin'],
    ['/admin/clients', '/admin/clients'],
    [
      '/admin/resources/Users?filter=userName%20eq%20%22a%22',
      '/admin/resources/Users?filter=userName%20eq%20%22a%22',
    ],
    ['/admin?outcome=failed', '/admin?outcome=failed'],
    // Everything else falls back to the overview.
    [undefined, '/admin'],
    [42, '/admin'],
    ['', '/admin'],
    ['//evil.example.test/', '/admin'],
    ['https://evil.example.test/admin', '/admin'],
    ['/\\evil.example.test', '/admin'],
    ['/admin\\..\\x', '/admin'],
    ['/admin/../x', '/admin'],
    ['/admin/%2e%2e/x', '/admin'],
    ['/admin//evil', '/admin'],
    ['/administrator', '/admin'],
    ['/saml/session', '/admin'],
    ['/admin/a b', '/admin'],
    ['/admin/\u00e9', '/admin'],
    [`/admin/${'a'.repeat(2001)}`, '/admin'],
  ])('%j → %s', (next, expected) => {
    expect(consolePath(next)).toBe(expected);
  });
});

describe('sameSecret', () => {
  it.each<[string, string, boolean]>([
    ['abc', 'abc', true],
    ['abc', 'abd', false],
    ['abc', 'abcd', false],
    ['', '', false],
    ['x', '', false],
  ])('%j vs %j → %s', (a, b, expected) => {
    expect(sameSecret(a, b)).toBe(expected);
  });
});

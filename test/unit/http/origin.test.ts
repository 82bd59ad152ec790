import { describe, expect, it } from 'vitest';
import { isValidHost, trustedProxies } from '../../../src/http/middleware/origin.ts';

describe('isValidHost (RFC 9110 §7.2 host[:port])', () => {
  const cases: [string, boolean][] = [
    ['scim.example.com', true],
    ['scim.example.com:8443', true],
    ['localhost', true],
    ['127.0.0.1:8080', true],
    ['[::1]:8080', true],
    ['[2001:db8::1]', true],
    ['bridge_1.internal', true],
    ['scim.example.com.', true],
    ['', false],
    ['evil.example:1/x?', false],
    ['evil.example/path#', false],
    ['user@evil.example', false],
    ['evil.example:99999', false],
    ['evil.example:0', false],
    ['evil.example:1?q=', false],
    ['evil example', false],
    ['[not-ipv6]:80', false],
    ['[::1', false],
    ['a..b', false],
    ['-leading-hyphen', false],
    ['a'.repeat(300), false],
    ['evil.example:80:80', false],
  ];
  it.each(cases)('%j → %s', (host, valid) => {
    expect(isValidHost(host)).toBe(valid);
  });
});

describe('trustedProxies', () => {
  const trusted = trustedProxies(['10.0.0.0/8', '127.0.0.1', '2001:db8::/32']);
  const cases: [string, boolean][] = [
    ['10.1.2.3', true],
    ['11.0.0.1', false],
    ['127.0.0.1', true],
    ['127.0.0.2', false],
    ['2001:db8::5', true],
    ['2001:db9::5', false],
    ['not an address', false],
    ['', false],
  ];
  it.each(cases)('%j → %s', (address, expected) => {
    expect(trusted(address)).toBe(expected);
  });
  it('an empty list trusts nobody', () => {
    expect(trustedProxies([])('127.0.0.1')).toBe(false);
  });
});

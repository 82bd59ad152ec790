import { describe, expect, it } from 'vitest';
import {
  allows,
  checkScopeRules,
  knownScopes,
  parseScopes,
  requiredScope,
  type ScopeRule,
  scopeNameOf,
  scopesFor,
} from '../../../src/auth/scopes.ts';

const ENDPOINTS = ['/Users', '/Groups'];

describe('scopes', () => {
  it('names scopes after the resource type endpoints', () => {
    expect(scopeNameOf('/Users')).toBe('users');
    expect(scopeNameOf('/Devices')).toBe('devices');
    expect(knownScopes(ENDPOINTS)).toEqual([
      'users:read',
      'users:write',
      'groups:read',
      'groups:write',
      'bulk',
      'admin',
    ]);
  });

  it.each<[string | string[], string[]]>([
    ['users:read', ['users:read']],
    ['users:read  groups:write', ['users:read', 'groups:write']],
    [
      ['bulk', 'admin', 'bulk'],
      ['bulk', 'admin'],
    ],
    ['', []],
  ])('parses %j', (input, scopes) => {
    expect(parseScopes(input, ENDPOINTS)).toEqual({ ok: true, scopes });
  });

  it.each<[string | string[], RegExp]>([
    ['users:delete', /unknown scope "users:delete"; expected one of: users:read users:write/],
    [['devices:read'], /unknown scope "devices:read"/],
    ['Users:read', /unknown scope "Users:read"/],
    ['users:read\tgroups:read', /printable ASCII/],
  ])('refuses %j with a clear error', (input, message) => {
    const parsed = parseScopes(input, ENDPOINTS);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors.join('\n')).toMatch(message);
  });

  const cases: [string[], string, string, boolean, boolean?][] = [
    [['users:read'], '/Users', 'GET', true],
    [['users:read'], '/Users', 'HEAD', true],
    [['users:read'], '/Users', 'POST', true, true], // POST /.search reads
    [['users:read'], '/Users', 'POST', false],
    [['users:read'], '/Users', 'PATCH', false],
    [['users:read'], '/Groups', 'GET', false],
    [['users:write'], '/Users', 'GET', true], // write implies read
    [['users:write'], '/Users', 'DELETE', true],
    [['users:write'], '/Groups', 'PUT', false],
    [['groups:write'], '/Groups', 'patch', true],
    [['bulk'], '/Bulk', 'POST', true],
    [['users:write'], '/Bulk', 'POST', false],
    [['bulk'], '/Users', 'POST', false], // each bulk operation still needs its own scope
    [['admin'], '/Devices', 'DELETE', true],
    [['admin'], '/Bulk', 'POST', true],
    [[], '/Users', 'GET', false],
  ];
  it.each(cases)('%j allows %s %s: %s', (granted, resourceType, method, expected, search) => {
    expect(allows(granted, { resourceType, method, ...(search ? { search } : {}) })).toBe(expected);
  });

  it('names the scope a request needs', () => {
    expect(requiredScope({ resourceType: '/Groups', method: 'PATCH' })).toBe('groups:write');
    expect(requiredScope({ resourceType: '/Bulk', method: 'POST' })).toBe('bulk');
  });
});

describe('scopes from an assertion', () => {
  const rules: ScopeRule[] = [
    { attribute: 'groups', equals: 'scim-provisioners', scopes: ['users:write', 'groups:write'] },
    { attribute: 'roles', equals: 'bridge-admin', scopes: ['admin'] },
    { nameId: true, equals: 'reader@example.test', scopes: ['users:read'] },
    { attribute: 'toString', equals: 'x', scopes: ['bulk'] },
  ];
  const identity = (subject: string, attributes: Record<string, string[]>) => ({ subject, attributes });

  it.each<[string, ReturnType<typeof identity>, string[]]>([
    ['by group', identity('a', { groups: ['staff', 'scim-provisioners'] }), ['groups:write', 'users:write']],
    ['by role', identity('a', { roles: ['bridge-admin'] }), ['admin']],
    ['by NameID', identity('reader@example.test', {}), ['users:read']],
    [
      'by several rules',
      identity('reader@example.test', { roles: ['bridge-admin'] }),
      ['admin', 'users:read'],
    ],
    ['by none', identity('b', { groups: ['Scim-Provisioners'] }), []],
    ['not by an attribute named like a prototype member', identity('b', {}), []],
    ['not by NameID matching an attribute rule', identity('scim-provisioners', {}), []],
  ])('grants %s', (_name, who, scopes) => {
    expect(scopesFor(who, rules)).toEqual(scopes);
  });

  it('checks rules: one selector, known scopes, at least one', () => {
    expect(checkScopeRules(rules, ENDPOINTS)).toEqual([]);
    expect(
      checkScopeRules(
        [
          { equals: 'x', scopes: ['users:read'] },
          { attribute: 'g', nameId: true, equals: 'x', scopes: ['users:read'] },
          { attribute: 'g', equals: 'x', scopes: ['users:rw'] },
          { nameId: true, equals: 'x', scopes: [] },
        ],
        ENDPOINTS,
      ),
    ).toEqual([
      'rule 0: expected exactly one of "attribute" or "nameId: true"',
      'rule 1: expected exactly one of "attribute" or "nameId: true"',
      expect.stringMatching(/^rule 2: unknown scope "users:rw"/),
      'rule 3: expected at least one scope',
    ]);
  });
});

/**
 * The pure parts of the console's pages: which LDAP attributes are secret, how a rule's flags
 * read, how a path names a resource type, and how SCIM errors become the console's refusals.
 */
import { describe, expect, it } from 'vitest';
import { AdminProblem } from '../../../src/admin/page.ts';
import { bounded, resourceTypeOf, scimCall } from '../../../src/admin/pages/common.ts';
import { ruleFlags } from '../../../src/admin/pages/mappings.ts';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import type { MappingSet } from '../../../src/mapping/compiled.ts';
import { loadMappingDirectory } from '../../../src/mapping/load.ts';
import { ScimError } from '../../../src/scim/errors.ts';
import { isSecretAttribute } from '../../../src/services/resources/inspect.ts';

const openldap: MappingSet = loadMappingDirectory('mappings/openldap', STANDARD_SCHEMAS);
const ad: MappingSet = loadMappingDirectory('mappings/activedirectory', STANDARD_SCHEMAS);
const users = (set: MappingSet) => set.resourceTypes.find((rt) => rt.name === 'User')!;

describe('isSecretAttribute', () => {
  it.each([
    [openldap, 'userPassword', true],
    [openldap, 'USERPASSWORD', true],
    [openldap, 'authPassword', true],
    [openldap, 'sambaNTPassword', true],
    [openldap, 'mail', false],
    [openldap, 'uid', false],
    [openldap, '', false],
    [ad, 'unicodePwd', true],
    [ad, 'supplementalCredentials', true],
    [ad, 'sAMAccountName', false],
  ])('%#: %s is secret: %s', (set, attribute, secret) => {
    expect(isSecretAttribute(users(set), attribute)).toBe(secret);
  });

  it('an attribute that stores a never-returned SCIM attribute is secret whatever its name', () => {
    const rt = users(openldap);
    const password = rt.rules.find((r) => r.attribute === 'password')!;
    const renamed = { ...rt, rules: [{ ...password, ldap: 'myVaultField', ldapKey: 'myvaultfield' }] };
    expect(isSecretAttribute(renamed, 'myVaultField')).toBe(true);
    expect(isSecretAttribute({ ...rt, rules: [] }, 'myVaultField')).toBe(false);
  });
});

describe('ruleFlags', () => {
  const rule = (key: string) => users(openldap).rules.find((r) => r.key === key)!;
  it.each([
    ['userName', ['required', 'unique (server)', 'ordering caseIgnoreOrderingMatch']],
    ['groups.value', ['readOnly', 'references Group', 'reverse member']],
    ['password', ['writeOnly', 'returned never']],
    ['externalId', ['caseExact']],
    ['emails[type eq "work"].value', ['primary', 'ordering none']],
  ])('%s: %j', (key, flags) => {
    expect(ruleFlags(rule(key))).toEqual(flags);
  });
});

describe('resourceTypeOf', () => {
  it.each([
    ['Users', 'User'],
    ['users', 'User'],
    ['User', 'User'],
    ['Groups', 'Group'],
  ])('%s names %s', (segment, name) => {
    expect(resourceTypeOf(openldap, segment).name).toBe(name);
  });

  it.each([['Printers'], [''], [undefined], ['<script>'], ['Users/x'], ['..']])('%s is a 404', (segment) => {
    const refusal = (() => {
      try {
        resourceTypeOf(openldap, segment);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refusal).toBeInstanceOf(AdminProblem);
    expect((refusal as AdminProblem).status).toBe(404);
    expect((refusal as AdminProblem).message).toContain('Users, Groups');
  });
});

describe('scimCall', () => {
  it('a SCIM error becomes a refusal with its status, what was asked, its detail and type', async () => {
    const call = scimCall('filter "x"', async () => {
      throw ScimError.invalidFilter('unexpected end at 10');
    });
    await expect(call).rejects.toMatchObject({
      name: 'AdminProblem',
      status: 400,
      message: 'filter "x": unexpected end at 10 (invalidFilter)',
    });
  });

  it('any other error goes up as it is (the core answers 500)', async () => {
    const failure = new TypeError('a bug');
    await expect(scimCall('x', async () => Promise.reject(failure))).rejects.toBe(failure);
  });

  it('a value is passed through', async () => {
    await expect(scimCall('x', async () => 42)).resolves.toBe(42);
  });
});

describe('bounded', () => {
  it.each([
    [undefined, 5, undefined],
    ['', 5, ''],
    ['abcde', 5, 'abcde'],
  ])('%j within %s is kept', (value, max, kept) => {
    expect(bounded(value, 'field', max)).toBe(kept);
  });

  it('a longer value is a 400 naming the field and both lengths', () => {
    expect(() => bounded('abcdef', 'filter', 5)).toThrow(
      expect.objectContaining({ status: 400, message: 'filter: 6 characters; at most 5' }),
    );
  });
});

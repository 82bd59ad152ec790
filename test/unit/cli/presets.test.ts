/**
 * Every preset under mappings/ compiles and passes `scim-ldap-bridge validate`; the directory-
 * specific choices of each preset are the ones its comments promise.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { findResourceTypeByName } from '../../../src/mapping/compiled.ts';
import { loadMappingDirectory } from '../../../src/mapping/load.ts';
import { previewRequest } from '../../../src/services/preview.ts';

const presets = readdirSync('mappings').filter((name) => statSync(join('mappings', name)).isDirectory());

describe('mapping presets', () => {
  it('include OpenLDAP, Active Directory and 389-DS', () => {
    expect(presets).toEqual(expect.arrayContaining(['openldap', 'activedirectory', '389ds']));
  });

  it.each(presets)('%s compiles to Users and Groups and passes validate', (preset) => {
    const dir = join('mappings', preset);
    const set = loadMappingDirectory(dir, STANDARD_SCHEMAS);
    expect(set.resourceTypes.map((r) => r.endpoint).sort()).toEqual(['/Groups', '/Users']);
    const r = spawnSync('./node_modules/.bin/node', ['src/cli/main.ts', 'validate', dir], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('activedirectory: objectGUID ids read as binary, uSNChanged versions, active on userAccountControl', () => {
    const set = loadMappingDirectory('mappings/activedirectory', STANDARD_SCHEMAS);
    const users = findResourceTypeByName(set, 'User');
    const groups = findResourceTypeByName(set, 'Group');
    expect(users?.directory.idAttribute).toBe('objectGUID');
    expect(users?.directory.binaryAttributes).toContain('objectGUID');
    expect(users?.directory.versionAttribute).toBe('uSNChanged');
    const active = users?.rules.find((r) => r.attribute === 'active');
    expect(active?.ldap).toBe('userAccountControl');
    expect(active?.transform.name).toBe('adAccountDisabled');
    expect(users?.rules.find((r) => r.attribute === 'userName')?.ldap).toBe('sAMAccountName');
    expect(groups?.directory.emptyGroupPlaceholder).toBeUndefined();
    expect(groups?.directory.objectClasses).toContain('group');
  });

  it('389ds: nsUniqueId ids, modifyTimestamp versions, nsAccountLock inverted', () => {
    const set = loadMappingDirectory('mappings/389ds', STANDARD_SCHEMAS);
    const users = findResourceTypeByName(set, 'User');
    expect(users?.directory.idAttribute).toBe('nsUniqueId');
    expect(users?.directory.versionAttribute).toBe('modifyTimestamp');
    expect(users?.directory.binaryAttributes).toEqual([]);
    expect(users?.rules.find((r) => r.attribute === 'active')?.transform.name).toBe('invertedBoolean');
  });

  it('activedirectory: disabling a user through the services sets only the ACCOUNTDISABLE bit', async () => {
    const set = loadMappingDirectory('mappings/activedirectory', STANDARD_SCHEMAS);
    const result = await previewRequest(set, {
      method: 'PATCH',
      path: '/Users/03020100-0504-0706-0809-0a0b0c0d0e0f',
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'active', value: false }],
      },
      current: {
        dn: 'CN=alice,CN=Users,DC=example,DC=test',
        // DONT_EXPIRE_PASSWORD | NORMAL_ACCOUNT
        attributes: { sAMAccountName: ['alice'], userAccountControl: ['66048'] },
      },
    });
    expect(result.error, JSON.stringify(result.error)).toBeUndefined();
    const lookup = result.operations[0];
    // The id is looked up as the 16 objectGUID bytes (first three groups little-endian).
    expect(lookup?.kind === 'search' && JSON.stringify(lookup.request.filter)).toContain(
      JSON.stringify({ type: 'equal', attribute: 'objectGUID', value: Buffer.from([...Array(16).keys()]) }),
    );
    expect(result.operations.find((o) => o.kind === 'modify')).toMatchObject({
      dn: 'CN=alice,CN=Users,DC=example,DC=test',
      changes: [{ operation: 'replace', attribute: 'userAccountControl', values: ['66050'] }],
    });
  });
});

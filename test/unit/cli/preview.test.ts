/**
 * `scim-ldap-bridge preview`: the real services against a recording directory. Expectations are
 * written from the OpenLDAP preset by hand (mappings/openldap), not computed by the code.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { loadMappingDirectory } from '../../../src/mapping/load.ts';
import { PreviewUsageError, previewRequest } from '../../../src/services/preview.ts';
import { formatPreview } from '../../../src/services/preview-text.ts';

const set = loadMappingDirectory('mappings/openldap', STANDARD_SCHEMAS);
const ID = '3f1c0e2a-1111-4222-8333-444455556666';
const MEMBER = '9a9a9a9a-1111-4222-8333-444455556666';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

function cli(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('./node_modules/.bin/node', ['src/cli/main.ts', ...args], {
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('previewRequest', () => {
  it('turns a list with a filter into one search with sort and VLV/paging controls', async () => {
    const result = await previewRequest(set, {
      method: 'GET',
      path: '/Users?startIndex=11&count=5&sortBy=userName&sortOrder=descending',
      filter: 'userName eq "a*(b)"',
    });
    expect(result.status).toBe(200);
    expect(result.operations).toHaveLength(1);
    const text = formatPreview(result);
    expect(text).toContain('base: ou=People,dc=example,dc=com\nscope: one\n');
    expect(text).toContain('filter: (&(objectClass=inetOrgPerson)(uid=a\\2a\\28b\\29))');
    expect(text).toContain('server-side sort (RFC 2891) -uid:caseIgnoreOrderingMatch');
    expect(text).toContain('VLV (offset 11, 5 entries)');
  });

  it('previews a create: uniqueness search, then one add with object classes, computed and default values', async () => {
    const result = await previewRequest(set, {
      method: 'POST',
      path: '/Users',
      body: { schemas: [USER], userName: 'alice', name: { familyName: 'Liddell' } },
    });
    expect(result.status).toBe(201);
    expect(result.operations.map((o) => o.kind)).toEqual(['search', 'add']);
    const add = result.operations[1];
    expect(add?.kind === 'add' && add.dn).toBe('uid=alice,ou=People,dc=example,dc=com');
    const text = formatPreview(result);
    expect(text).toContain('objectClass: inetOrgPerson\n');
    expect(text).toContain('uid: alice\n');
    expect(text).toContain('sn: Liddell\n');
    expect(text).toContain('cn: alice\n'); // computed "{displayName|userName}"
    expect(text).toContain('scimActive: TRUE\n'); // default: true
    expect(text).toMatch(/# SCIM response: 201\n$/);
  });

  it('previews a membership PATCH as a value add with the If-Match assertion, against --current', async () => {
    const result = await previewRequest(set, {
      method: 'PATCH',
      path: `/Groups/${ID}`,
      body: { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: MEMBER }] }] },
      ifMatch: 'W/"csn-1"',
      current: { dn: 'cn=ops,ou=Groups,dc=example,dc=com', attributes: { cn: ['ops'] } },
    });
    expect(result.status).toBe(204);
    expect(result.operations.some((o) => o.kind === 'rename')).toBe(false);
    const modify = result.operations.find((o) => o.kind === 'modify');
    expect(modify).toEqual({
      kind: 'modify',
      dn: 'cn=ops,ou=Groups,dc=example,dc=com',
      changes: [
        { operation: 'add', attribute: 'member', values: [`uid=${MEMBER},ou=People,dc=example,dc=com`] },
      ],
      options: expect.objectContaining({
        assertion: { type: 'equal', attribute: 'entryCSN', value: 'csn-1' },
      }),
    });
    expect(formatPreview(result)).toContain('# control: assertion (RFC 4528) (entryCSN=csn-1)');
  });

  it('shows a userName change as modifyDN', async () => {
    const result = await previewRequest(set, {
      method: 'PUT',
      path: `/Users/${ID}`,
      body: { schemas: [USER], userName: 'bob' },
      current: { dn: 'uid=alice,ou=People,dc=example,dc=com', attributes: { uid: ['alice'], sn: ['alice'] } },
    });
    expect(result.operations.find((o) => o.kind === 'rename')).toEqual({
      kind: 'rename',
      dn: 'uid=alice,ou=People,dc=example,dc=com',
      newDn: 'uid=bob,ou=People,dc=example,dc=com',
    });
  });

  it('previews a delete of a simulated entry', async () => {
    const result = await previewRequest(set, { method: 'DELETE', path: `/Users/${ID}` });
    expect(result.status).toBe(204);
    expect(result.operations.at(-1)).toMatchObject({
      kind: 'delete',
      dn: `uid=${ID},ou=People,dc=example,dc=com`,
    });
  });

  it('reports what the bridge would refuse, with the operations done so far', async () => {
    const result = await previewRequest(set, { method: 'GET', path: '/Users', filter: 'nosuch eq 1' });
    expect(result.status).toBe(400);
    expect(result.error?.scimType).toBe('invalidFilter');
    expect(result.operations).toEqual([]);
    const bad = await previewRequest(set, { method: 'POST', path: '/Users', body: { schemas: [USER] } });
    expect(bad.status).toBe(400);
    expect(bad.operations.some((o) => o.kind === 'add')).toBe(false);
  });

  it.each([
    ['GET', '/Nope'],
    ['GET', `/Users/${ID}/extra`],
    ['POST', `/Users/${ID}`],
    ['PUT', '/Users'],
    ['TRACE', '/Users'],
    ['GET', '/Users?count=ten'],
    ['GET', '/Users?sortOrder=up'],
  ])('refuses %s %s as a usage error', async (method, path) => {
    await expect(previewRequest(set, { method, path, body: {} })).rejects.toThrow(PreviewUsageError);
  });
});

describe('scim-ldap-bridge CLI', () => {
  it.each(['serve', 'validate', 'preview'])('%s --help prints its usage', (command) => {
    const r = cli([command, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`usage: scim-ldap-bridge ${command}`);
  });

  it('lists preview in the main help', () => {
    expect(cli(['--help']).stdout).toContain('preview METHOD PATH');
  });

  it('previews a POST from a body file and from stdin', () => {
    const dir = mkdtempSync(join(tmpdir(), 'preview-'));
    const file = join(dir, 'body.json');
    writeFileSync(file, JSON.stringify({ schemas: [USER], userName: 'carol' }));
    const r = cli(['preview', 'POST', '/Users', '--body', file]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('dn: uid=carol,ou=People,dc=example,dc=com\nchangetype: add\n');
    const s = cli(
      ['preview', '--mappings', 'mappings/openldap', 'POST', '/Users', '--body', '-'],
      JSON.stringify({ schemas: [USER], userName: 'dave' }),
    );
    expect(s.stdout).toContain('dn: uid=dave,ou=People,dc=example,dc=com');
  });

  it('exits 1 when the bridge would refuse the request', () => {
    const r = cli(['preview', 'GET', '/Users', '--filter', 'userName xx "a"']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('# SCIM response: 400 invalidFilter');
  });

  it.each([
    [['preview'], 'needs METHOD and PATH'],
    [['preview', 'GET', '/Users', '--bogus', 'x'], 'unknown option --bogus'],
    [['preview', 'POST', '/Users', '--data'], '--data needs a value'],
    [['preview', 'POST', '/Users', '--data', '{nope'], 'is not JSON'],
    [['preview', 'POST', '/Users', '--body', '/nonexistent/x.json'], 'ENOENT'],
    [['preview', 'GET', '/Nope'], 'no resource type'],
  ])('usage error %j', (args, message) => {
    const r = cli(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('prints mapping problems of a broken --mappings directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'preview-bad-'));
    writeFileSync(join(dir, 'users.yaml'), 'resourceType: User\nendpoint: 5\n');
    const r = cli(['preview', '--mappings', dir, 'GET', '/Users']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('users.yaml:');
  });
});

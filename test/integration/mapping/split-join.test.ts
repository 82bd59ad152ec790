/**
 * The list transforms against a real slapd, through the running bridge: `postalAddress` (the
 * OpenLDAP preset's addresses.formatted) and `split` (a custom extension's multi-valued attribute
 * kept in one `description` value). What lands in the directory is read back with raw ldapts;
 * filters on the joined value are answered by slapd itself.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const BADGES = 'urn:example:params:scim:schemas:extension:badges:2.0:User';
let dir: string;
let t: TestBridge;
let ldap: Client;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'split-mappings-'));
  cpSync('mappings/openldap', dir, { recursive: true });
  const file = join(dir, 'users.yaml');
  const text = readFileSync(file, 'utf8')
    .replace(
      '    required: false\n',
      `    required: false\n  - schema: ${BADGES}\ncustomSchemas:\n  - id: ${BADGES}\n    name: Badges\n    attributes:\n      - { name: badges, type: string, multiValued: true }\n`,
    )
    .replace(
      'attributes:\n  userName:',
      `attributes:\n  '${BADGES}:badges': { ldap: description, transform: split, separator: "; " }\n  userName:`,
    );
  writeFileSync(file, text);
  t = await startTestBridge({ seed: 'empty', env: { SCIM_BRIDGE_MAPPINGS_DIR: dir } });
  ldap = await rootClientOf(t);
});

afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function stored(uid: string, attribute: string): Promise<unknown> {
  const { searchEntries } = await ldap.search('ou=People,dc=example,dc=com', {
    scope: 'one',
    filter: `(uid=${uid})`,
    attributes: [attribute],
  });
  return searchEntries[0]?.[attribute];
}

const people: Record<string, string[]> = {
  ann: ['first aid', 'fire warden'],
  bob: ['fire warden'],
  cyd: ['warden of keys', 'aid'],
  dee: [],
};

describe('postalAddress and split through a real slapd', () => {
  it('stores a multi-line formatted address as "$"-joined lines with RFC 4517 escapes', async () => {
    const formatted = 'Suite $5, 1 Main St\nC:\\Mail Stop 4\nSpringfield';
    const r = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'postal',
      addresses: [{ type: 'work', formatted, locality: 'Springfield' }],
    });
    expect(r.status).toBe(201);
    expect(await stored('postal', 'postalAddress')).toBe(
      'Suite \\245, 1 Main St$C:\\5CMail Stop 4$Springfield',
    );
    const back = await t.request('GET', `/Users/${r.body.id}`);
    expect(back.body.addresses).toEqual([{ type: 'work', formatted, locality: 'Springfield' }]);
  });

  it('refuses an address with an empty line inside as 400 invalidValue and writes nothing', async () => {
    const r = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'gap',
      addresses: [{ type: 'work', formatted: 'a\n\nb' }],
    });
    expect(r.status).toBe(400);
    expect(r.body.scimType).toBe('invalidValue');
    expect(r.body.detail).toContain('formatted');
    expect(await stored('gap', 'uid')).toBeUndefined();
  });

  it('keeps a list in one LDAP value and reads it back as the list', async () => {
    for (const [userName, badges] of Object.entries(people)) {
      const r = await t.request('POST', '/Users', {
        schemas: [USER, BADGES],
        userName,
        ...(badges.length > 0 ? { [BADGES]: { badges } } : {}),
      });
      expect(r.status).toBe(201);
      const back = await t.request('GET', `/Users/${r.body.id}`);
      expect(back.body[BADGES]?.badges ?? []).toEqual(badges);
    }
    expect(await stored('ann', 'description')).toBe('first aid; fire warden');
    expect((await stored('dee', 'description')) ?? []).toEqual([]); // no value at all
  });

  it('PATCH add merges one element into the joined value', async () => {
    const list = await t.request('GET', '/Users?filter=userName eq "bob"');
    const id = list.body.Resources[0].id as string;
    const r = await t.request('PATCH', `/Users/${id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'add', path: `${BADGES}:badges`, value: ['aid'] }],
    });
    expect(r.status).toBe(200);
    expect(await stored('bob', 'description')).toBe('fire warden; aid');
    people.bob = ['fire warden', 'aid'];
  });

  it('refuses an element that holds the separator, naming the attribute', async () => {
    const r = await t.request('POST', '/Users', {
      schemas: [USER, BADGES],
      userName: 'sep',
      [BADGES]: { badges: ['a; b'] },
    });
    expect(r.status).toBe(400);
    expect(r.body.scimType).toBe('invalidValue');
    expect(r.body.detail).toContain('badges');
    expect(await stored('sep', 'uid')).toBeUndefined();
  });

  // The expected sets come from the people table above, element by element.
  const holders = (match: (badge: string) => boolean): string[] =>
    Object.entries(people)
      .filter(([, badges]) => badges.some(match))
      .map(([name]) => name)
      .sort();

  it.each([
    ['eq', 'aid', (b: string) => b === 'aid'],
    ['eq', 'fire warden', (b: string) => b === 'fire warden'],
    ['sw', 'fire', (b: string) => b.startsWith('fire')],
    ['sw', 'warden', (b: string) => b.startsWith('warden')],
    ['ew', 'aid', (b: string) => b.endsWith('aid')],
    ['ew', 'keys', (b: string) => b.endsWith('keys')],
    ['co', 'war', (b: string) => b.includes('war')],
  ] as const)('filter badges %s %j is answered by slapd element-wise', async (op, value, match) => {
    const filter = encodeURIComponent(`${BADGES}:badges ${op} "${value}"`);
    const r = await t.request('GET', `/Users?filter=${filter}&attributes=userName`);
    expect(r.status).toBe(200);
    const names = (r.body.Resources as { userName: string }[]).map((u) => u.userName).sort();
    expect(names).toEqual(holders(match));
  });
});

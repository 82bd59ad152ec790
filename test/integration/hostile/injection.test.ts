/**
 * Hostile input, class "filter and DN injection" (issue 15: held; kept so it stays held): SCIM
 * filter values are values, never LDAP filter syntax (RFC 4515 §3 escaping), and a name is one
 * RDN value, never a DN path (RFC 4514 §2.4 escaping): no extra results, no entry elsewhere.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { GROUP, PEOPLE, SUFFIX, said, USER } from './helpers.ts';

let t: TestBridge;
let ldap: Client;

beforeAll(async () => {
  t = await startTestBridge();
  ldap = await rootClientOf(t);
});
afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
});

async function userNames(filter: string): Promise<string[]> {
  const r = await t.request('GET', `/Users?count=100&filter=${encodeURIComponent(filter)}`);
  if (r.status !== 200) return [];
  return (r.body.Resources as { userName: string }[]).map((u) => u.userName);
}

/** Every DN under the suffix, lower-cased. */
async function allDns(): Promise<string[]> {
  const { searchEntries } = await ldap.search(SUFFIX, {
    scope: 'sub',
    filter: '(objectClass=*)',
    attributes: ['1.1'],
  });
  return searchEntries.map((e) => e.dn.toLowerCase());
}

describe('hostile input: filter and DN injection', () => {
  for (const value of [
    '*',
    'a*',
    'alice)(uid=*',
    '*)(|(uid=*',
    'alice\\2a',
    'alice)(objectClass=*',
    '\\',
    '\u0000',
  ]) {
    it(`userName eq ${JSON.stringify(value)} matches no one (LDAP filter syntax is escaped)`, async () => {
      expect(await userNames(`userName eq ${JSON.stringify(value)}`)).toEqual([]);
    });
  }

  it('co and sw with LDAP metacharacters match only literal values', async () => {
    expect(await userNames('userName co "*"')).toEqual([]);
    expect(await userNames('userName sw "al)(uid=b"')).toEqual([]);
    expect(await userNames('userName sw "ali"')).toEqual(['alice']);
  });

  for (const userName of [
    'x,ou=Groups',
    'y,dc=example,dc=com',
    'z+cn=admin',
    'w\\,ou=Groups',
    '#hash',
    ' space',
    'q=r',
  ]) {
    it(`userName ${JSON.stringify(userName)} becomes one RDN value under People, or is refused`, async () => {
      const before = await allDns();
      const r = await t.request('POST', '/Users', { schemas: [USER], userName });
      const added = (await allDns()).filter((dn) => !before.includes(dn));
      if (r.status === 201) {
        expect(added, said(r)).toHaveLength(1);
        expect(added[0]?.endsWith(`,${PEOPLE.toLowerCase()}`), added[0]).toBe(true);
        // One RDN: the part before People holds no unescaped comma.
        expect(added[0]?.slice(0, -PEOPLE.length - 1), added[0]).not.toMatch(/(^|[^\\]),/);
        const read = await t.request('GET', `/Users/${r.body.id}`);
        expect(read.body.userName).toBe(userName);
      } else {
        expect(r.status, said(r)).toBe(400);
        expect(added).toEqual([]);
      }
    });
  }

  it('a group displayName with DN syntax stays one entry under Groups', async () => {
    const before = await allDns();
    const r = await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'g,ou=People,dc=example,dc=com',
    });
    const added = (await allDns()).filter((dn) => !before.includes(dn));
    if (r.status === 201) {
      expect(added).toHaveLength(1);
      expect(added[0]?.endsWith(`,ou=groups,${SUFFIX}`), added[0]).toBe(true);
    } else {
      expect(r.status, said(r)).toBe(400);
      expect(added).toEqual([]);
    }
  });
});

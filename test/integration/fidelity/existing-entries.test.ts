/**
 * Issue 14, class "an existing directory's entries". The bridge fronts directories that existed
 * before it: their entries carry only standard object classes (inetOrgPerson, groupOfNames), not
 * the bridge's auxiliary class (`scimResource` in the OpenLDAP preset). The first write to such an
 * entry must work, also when 16 of them race; adding what the bridge adds on first write must be
 * idempotent under concurrency. Entries are loaded with the root client, as ldapadd would.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { eachRow, filtered, GROUP, type Json, patchBody, type Row, USER } from './helpers.ts';

const PEOPLE = 'ou=People,dc=example,dc=com';
const GROUPS = 'ou=Groups,dc=example,dc=com';
const CONCURRENCY = 16;

let t: TestBridge;
let ldap: Client;
let serial = 0;

beforeAll(async () => {
  t = await startTestBridge({ seed: 'empty' });
  ldap = await rootClientOf(t);
});

afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
});

interface Legacy {
  id: string;
  dn: string;
  name: string;
}

/** `count` inetOrgPerson entries without the auxiliary class, and their SCIM ids. */
async function legacyUsers(count: number): Promise<Legacy[]> {
  serial += 1;
  const users: Legacy[] = [];
  for (let i = 0; i < count; i++) {
    const name = `legacy${serial}-${i}`;
    const dn = `uid=${name},${PEOPLE}`;
    await ldap.add(dn, {
      objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
      uid: name,
      cn: `Legacy ${name}`,
      sn: 'Legacy',
      mail: `${name}@example.org`,
    });
    users.push({ dn, name, id: await idOf('/Users', 'userName', name) });
  }
  return users;
}

/** A groupOfNames entry without the auxiliary class, with one pre-existing member. */
async function legacyGroup(member: Legacy): Promise<Legacy> {
  serial += 1;
  const name = `legacy-group-${serial}`;
  const dn = `cn=${name},${GROUPS}`;
  await ldap.add(dn, { objectClass: ['top', 'groupOfNames'], cn: name, member: member.dn });
  return { dn, name, id: await idOf('/Groups', 'displayName', name) };
}

async function idOf(endpoint: string, attribute: string, value: string): Promise<string> {
  const r = await t.request('GET', filtered(endpoint, `${attribute} eq "${value}"`));
  expect(r.body.totalResults, `${endpoint} ${value}: ${r.text}`).toBe(1);
  return r.body.Resources[0].id;
}

async function ldapValues(dn: string, attribute: string): Promise<string[]> {
  const { searchEntries } = await ldap.search(dn, { scope: 'base', attributes: [attribute] });
  const value = searchEntries[0]?.[attribute];
  return value === undefined ? [] : ([] as string[]).concat(value as string | string[]);
}

function expectWritten(r: { status: number; text: string }): void {
  expect([200, 204], r.text).toContain(r.status);
}

/** One first write on a fresh pre-existing entry, and what must read back afterwards. */
interface FirstWrite extends Row {
  target: 'user' | 'group';
  method: 'PUT' | 'PATCH';
  body: (entry: Legacy, member: Legacy) => Json;
  readsBack: (entry: Legacy, member: Legacy) => Json;
}

const firstWrites: FirstWrite[] = [
  {
    label: 'PATCH replace displayName on a user',
    target: 'user',
    method: 'PATCH',
    body: () => patchBody({ op: 'replace', path: 'displayName', value: 'Once Legacy' }),
    readsBack: () => ({ displayName: 'Once Legacy' }),
  },
  {
    label: 'PATCH replace active false on a user (an attribute of the auxiliary class)',
    target: 'user',
    method: 'PATCH',
    body: () => patchBody({ op: 'replace', path: 'active', value: false }),
    readsBack: () => ({ active: false }),
  },
  {
    label: 'PATCH add externalId on a user (an attribute of the auxiliary class)',
    target: 'user',
    method: 'PATCH',
    body: () => patchBody({ op: 'add', path: 'externalId', value: 'ext-legacy' }),
    readsBack: () => ({ externalId: 'ext-legacy' }),
  },
  {
    label: 'a first PUT on a user',
    target: 'user',
    method: 'PUT',
    body: (e) => ({
      schemas: [USER],
      userName: e.name,
      externalId: `ext-${e.name}`,
      name: { formatted: 'Put Legacy', familyName: 'Legacy' },
      emails: [{ value: `${e.name}@example.com`, type: 'work', primary: true }],
      active: true,
    }),
    readsBack: (e) => ({
      externalId: `ext-${e.name}`,
      name: { formatted: 'Put Legacy', familyName: 'Legacy' },
    }),
  },
  {
    label: 'PATCH add a member to a group',
    target: 'group',
    method: 'PATCH',
    body: (_g, m) => patchBody({ op: 'add', path: 'members', value: [{ value: m.id }] }),
    readsBack: (_g, m) => ({ members: expect.arrayContaining([expect.objectContaining({ value: m.id })]) }),
  },
  {
    label: 'PATCH add externalId on a group (an attribute of the auxiliary class)',
    target: 'group',
    method: 'PATCH',
    body: () => patchBody({ op: 'add', path: 'externalId', value: 'ext-group' }),
    readsBack: () => ({ externalId: 'ext-group' }),
  },
  {
    label: 'a first PUT on a group',
    target: 'group',
    method: 'PUT',
    body: (g, m) => ({
      schemas: [GROUP],
      displayName: g.name,
      externalId: 'ext-put',
      members: [{ value: m.id }],
    }),
    readsBack: (_g, m) => ({ externalId: 'ext-put', members: [expect.objectContaining({ value: m.id })] }),
  },
];

describe('the first write to an entry without the auxiliary class', () => {
  eachRow(firstWrites, async ({ target, method, body, readsBack }) => {
    const [user, member] = (await legacyUsers(2)) as [Legacy, Legacy];
    const entry = target === 'user' ? user : await legacyGroup(user);
    const endpoint = target === 'user' ? '/Users' : '/Groups';
    const r = await t.request(method, `${endpoint}/${entry.id}`, body(entry, member));
    expectWritten(r);
    const read = await t.request('GET', `${endpoint}/${entry.id}`);
    expect(read.body).toMatchObject(readsBack(entry, member));
  });
});

/** N requests sent at once; every one must succeed and every effect must be in the directory. */
interface Race extends Row {
  run: () => Promise<void>;
}

async function sendAll(requests: [string, string, Json][]): Promise<void> {
  const answers = await Promise.all(requests.map(([method, path, body]) => t.request(method, path, body)));
  const refused = answers
    .filter((r) => r.status !== 200 && r.status !== 204)
    .map((r) => `${r.status} ${r.text}`);
  expect(refused).toEqual([]);
}

const races: Race[] = [
  {
    label: `${CONCURRENCY} concurrent PATCHes adding different members to one group`,
    run: async () => {
      const [first, ...others] = (await legacyUsers(CONCURRENCY + 1)) as [Legacy, ...Legacy[]];
      const group = await legacyGroup(first);
      await sendAll(
        others.map((m) => [
          'PATCH',
          `/Groups/${group.id}`,
          patchBody({ op: 'add', path: 'members', value: [{ value: m.id }] }),
        ]),
      );
      const read = await t.request('GET', `/Groups/${group.id}?attributes=members`);
      const ids = read.body.members.map((m: { value: string }) => m.value).sort();
      expect(ids).toEqual([first, ...others].map((m) => m.id).sort());
      const dns = (await ldapValues(group.dn, 'member')).map((dn) => dn.toLowerCase()).sort();
      expect(dns).toEqual([first, ...others].map((m) => m.dn.toLowerCase()).sort());
    },
  },
  {
    label: `${CONCURRENCY} concurrent PATCHes on one group, each adding a member and setting externalId`,
    run: async () => {
      const [first, ...others] = (await legacyUsers(CONCURRENCY + 1)) as [Legacy, ...Legacy[]];
      const group = await legacyGroup(first);
      await sendAll(
        others.map((m, i) => [
          'PATCH',
          `/Groups/${group.id}`,
          patchBody(
            { op: 'add', path: 'members', value: [{ value: m.id }] },
            { op: 'replace', path: 'externalId', value: `ext-${i}` },
          ),
        ]),
      );
      const dns = (await ldapValues(group.dn, 'member')).map((dn) => dn.toLowerCase()).sort();
      expect(dns).toEqual([first, ...others].map((m) => m.dn.toLowerCase()).sort());
    },
  },
  {
    label: `${CONCURRENCY} concurrent PATCHes, one to each of ${CONCURRENCY} users`,
    run: async () => {
      const users = await legacyUsers(CONCURRENCY);
      await sendAll(
        users.map((u) => [
          'PATCH',
          `/Users/${u.id}`,
          patchBody(
            { op: 'add', path: 'externalId', value: `ext-${u.name}` },
            { op: 'replace', path: 'active', value: false },
          ),
        ]),
      );
      for (const u of users) {
        expect((await t.request('GET', `/Users/${u.id}`)).body).toMatchObject({
          externalId: `ext-${u.name}`,
          active: false,
        });
      }
    },
  },
  {
    label: `${CONCURRENCY} concurrent first PUTs, one to each of ${CONCURRENCY} users`,
    run: async () => {
      const users = await legacyUsers(CONCURRENCY);
      await sendAll(
        users.map((u) => [
          'PUT',
          `/Users/${u.id}`,
          { schemas: [USER], userName: u.name, externalId: `put-${u.name}`, active: true },
        ]),
      );
      for (const u of users) {
        expect((await t.request('GET', `/Users/${u.id}`)).body.externalId).toBe(`put-${u.name}`);
      }
    },
  },
  {
    label: `${CONCURRENCY} concurrent PATCHes setting externalId on one user`,
    run: async () => {
      const [user] = (await legacyUsers(1)) as [Legacy];
      const values = Array.from({ length: CONCURRENCY }, (_, i) => `ext-${i}`);
      await sendAll(
        values.map((v) => [
          'PATCH',
          `/Users/${user.id}`,
          patchBody({ op: 'replace', path: 'externalId', value: v }),
        ]),
      );
      expect(values).toContain((await t.request('GET', `/Users/${user.id}`)).body.externalId);
    },
  },
];

describe('concurrent first writes', () => {
  eachRow(races, ({ run }) => run());
});

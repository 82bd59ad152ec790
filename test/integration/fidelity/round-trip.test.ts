/**
 * Issue 14, class "values the client never set come back": what a client sends is exactly what
 * it reads (plus id, meta and schemas), through POST, PUT, PATCH add/replace/remove and a rename.
 * IdPs compare what they read with what they hold; a value they never sent looks like drift and
 * is "corrected" on every sync. Empty multi-valued attributes are unassigned (RFC 7643 §2.5) and
 * omitted unless asked for by name (RFC 7644 §3.9).
 *
 * One declared default is allowed: `active: true` when the client sent no `active` (the mapping's
 * `default: true`, written to the directory so that Okta's PUT without `active` does not disable).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import {
  create,
  ENTERPRISE,
  eachRow,
  expectContains,
  extrasIn,
  GROUP,
  type Json,
  patchBody,
  type Row,
  USER,
} from './helpers.ts';

let t: TestBridge;
let serial = 0;

beforeAll(async () => {
  t = await startTestBridge({ seed: 'empty' });
});

afterAll(async () => {
  await t?.stop();
});

function uniqueName(label: string): string {
  serial += 1;
  return `rt${serial}-${label
    .replace(/[^a-z]+/gi, '')
    .slice(0, 12)
    .toLowerCase()}`;
}

/** Reads `id` back and checks it against `sent`: everything sent, nothing else. */
async function readBack(id: string, sent: Json): Promise<{ read: Json; extras: string[] }> {
  const r = await t.request('GET', `/Users/${id}`);
  expect(r.status, r.text).toBe(200);
  const allow = 'active' in sent ? [] : ['active'];
  if (!('active' in sent)) expect(r.body.active).toBe(true);
  return { read: r.body, extras: extrasIn(r.body, sent, allow) };
}

type Body = (userName: string) => Json;

const bodies: (Row & { body: Body })[] = [
  {
    label: 'userName only',
    body: (u) => ({ schemas: [USER], userName: u }),
  },
  {
    label: 'name parts only',
    body: (u) => ({ schemas: [USER], userName: u, name: { givenName: 'Ada', familyName: 'Lovelace' } }),
  },
  {
    label: 'a whole name and displayName',
    body: (u) => ({
      schemas: [USER],
      userName: u,
      name: { formatted: 'Ada Lovelace', givenName: 'Ada', familyName: 'Lovelace' },
      displayName: 'Ada Lovelace',
    }),
  },
  {
    label: 'a primary work email',
    body: (u) => ({
      schemas: [USER],
      userName: u,
      emails: [{ value: `${u}@example.org`, type: 'work', primary: true }],
    }),
  },
  {
    label: 'a work email without primary',
    body: (u) => ({ schemas: [USER], userName: u, emails: [{ value: `${u}@example.org`, type: 'work' }] }),
  },
  {
    label: 'work and mobile phoneNumbers',
    body: (u) => ({
      schemas: [USER],
      userName: u,
      phoneNumbers: [
        { value: '+1 555 0100', type: 'work' },
        { value: '+1 555 0199', type: 'mobile' },
      ],
    }),
  },
  {
    label: 'the enterprise extension',
    body: (u) => ({
      schemas: [USER, ENTERPRISE],
      userName: u,
      [ENTERPRISE]: { employeeNumber: '42', department: 'R&D', organization: 'Example' },
    }),
  },
  {
    label: 'active false',
    body: (u) => ({ schemas: [USER], userName: u, active: false }),
  },
  {
    label: 'externalId, title and preferredLanguage',
    body: (u) => ({
      schemas: [USER],
      userName: u,
      externalId: `ext-${u}`,
      title: 'Analyst',
      preferredLanguage: 'en',
    }),
  },
];

describe('POST then GET: a User reads back as sent', () => {
  for (const { label, body } of bodies) {
    it(`${label}: everything sent is read back`, async () => {
      const sent = body(uniqueName(label));
      const id = await create(t, '/Users', sent);
      expectContains((await readBack(id, sent)).read, sent);
    });
  }

  eachRow(
    bodies,
    async ({ label, body }) => {
      const sent = body(uniqueName(label));
      const created = await t.request('POST', '/Users', sent);
      expect(created.status, created.text).toBe(201);
      expect(extrasIn(created.body, sent, 'active' in sent ? [] : ['active'])).toEqual([]);
      expect((await readBack(created.body.id, sent)).extras).toEqual([]);
    },
    ': nothing the client never set',
  );
});

/** A user with every part of a name, so no computed fallback is needed to create it. */
const complete: Body = (u) => ({
  schemas: [USER],
  userName: u,
  name: { formatted: 'Grace Hopper', givenName: 'Grace', familyName: 'Hopper' },
  displayName: 'Grace Hopper',
  title: 'Rear Admiral',
  emails: [{ value: `${u}@example.org`, type: 'work', primary: true }],
  active: true,
});

function without(body: Json, ...keys: string[]): Json {
  return Object.fromEntries(Object.entries(body).filter(([k]) => !keys.includes(k)));
}

/** A write on a user created from `complete`; `expected` is what must read back afterwards. */
interface Write extends Row {
  method: 'PUT' | 'PATCH';
  request: (sent: Json) => Json;
  expected: (sent: Json) => Json;
}

const writes: Write[] = [
  {
    label: 'PUT with userName and emails only',
    method: 'PUT',
    request: (s) => ({ schemas: [USER], userName: s.userName, emails: s.emails }),
    expected: (s) => ({ schemas: [USER], userName: s.userName, emails: s.emails, active: true }),
  },
  {
    label: 'PUT with name parts only',
    method: 'PUT',
    request: (s) => ({ schemas: [USER], userName: s.userName, name: { givenName: 'G', familyName: 'H' } }),
    expected: (s) => ({
      schemas: [USER],
      userName: s.userName,
      name: { givenName: 'G', familyName: 'H' },
      active: true,
    }),
  },
  {
    label: 'PATCH replace displayName',
    method: 'PATCH',
    request: () => patchBody({ op: 'replace', path: 'displayName', value: 'Amazing Grace' }),
    expected: (s) => ({ ...s, displayName: 'Amazing Grace' }),
  },
  {
    label: 'PATCH add phoneNumbers',
    method: 'PATCH',
    request: () =>
      patchBody({ op: 'add', path: 'phoneNumbers', value: [{ value: '+1 555 0142', type: 'work' }] }),
    expected: (s) => ({ ...s, phoneNumbers: [{ value: '+1 555 0142', type: 'work' }] }),
  },
  {
    label: 'PATCH add the enterprise extension (value-less)',
    method: 'PATCH',
    request: () => patchBody({ op: 'add', value: { [ENTERPRISE]: { department: 'Navy' } } }),
    expected: (s) => ({ ...s, [ENTERPRISE]: { department: 'Navy' } }),
  },
  {
    label: 'PATCH replace active false',
    method: 'PATCH',
    request: () => patchBody({ op: 'replace', path: 'active', value: false }),
    expected: (s) => ({ ...s, active: false }),
  },
  {
    label: 'PATCH remove title',
    method: 'PATCH',
    request: () => patchBody({ op: 'remove', path: 'title' }),
    expected: (s) => without(s, 'title'),
  },
  {
    label: 'PATCH remove displayName',
    method: 'PATCH',
    request: () => patchBody({ op: 'remove', path: 'displayName' }),
    expected: (s) => without(s, 'displayName'),
  },
  {
    label: 'PATCH remove name',
    method: 'PATCH',
    request: () => patchBody({ op: 'remove', path: 'name' }),
    expected: (s) => without(s, 'name'),
  },
  {
    label: 'PATCH remove name.formatted',
    method: 'PATCH',
    request: () => patchBody({ op: 'remove', path: 'name.formatted' }),
    expected: (s) => ({ ...s, name: { givenName: 'Grace', familyName: 'Hopper' } }),
  },
  {
    label: 'PATCH remove name and displayName',
    method: 'PATCH',
    request: () => patchBody({ op: 'remove', path: 'name' }, { op: 'remove', path: 'displayName' }),
    expected: (s) => without(s, 'name', 'displayName'),
  },
  {
    label: 'rename (PATCH replace userName)',
    method: 'PATCH',
    request: (s) => patchBody({ op: 'replace', path: 'userName', value: `${s.userName}-renamed` }),
    expected: (s) => ({ ...s, userName: `${s.userName}-renamed` }),
  },
  {
    label: 'rename by PUT',
    method: 'PUT',
    request: (s) => ({ ...s, userName: `${s.userName}-put` }),
    expected: (s) => ({ ...s, userName: `${s.userName}-put` }),
  },
];

describe('writes on a User read back exactly', () => {
  /** Creates a user from `complete`, applies the write and reads the user back. */
  async function afterWrite({ label, method, request, expected }: Write) {
    const sent = complete(uniqueName(label));
    const id = await create(t, '/Users', sent);
    const w = await t.request(method, `/Users/${id}`, request(sent));
    expect(w.status, w.text).toBe(200);
    return { expected: expected(sent), ...(await readBack(id, expected(sent))) };
  }

  for (const write of writes) {
    it(`${write.label}: everything expected is read back`, async () => {
      const { read, expected } = await afterWrite(write);
      expectContains(read, expected);
    });
  }

  eachRow(
    writes,
    async (write) => {
      expect((await afterWrite(write)).extras).toEqual([]);
    },
    ': nothing else is read back',
  );
});

describe('empty multi-valued attributes are omitted unless asked for by name (RFC 7643 §2.5)', () => {
  let groupId: string;
  let userId: string;

  beforeAll(async () => {
    userId = await create(t, '/Users', complete('rt-member'));
    groupId = await create(t, '/Groups', { schemas: [GROUP], displayName: 'rt-empty', externalId: 'g-1' });
  });

  const reads: (Row & { path: () => string; attribute: string; present: boolean })[] = [
    {
      label: 'a Group without members: members is omitted',
      path: () => `/Groups/${groupId}`,
      attribute: 'members',
      present: false,
    },
    {
      label: 'a Group, attributes=members: members is []',
      path: () => `/Groups/${groupId}?attributes=members`,
      attribute: 'members',
      present: true,
    },
    {
      label: 'a Group, attributes=displayName: members is omitted',
      path: () => `/Groups/${groupId}?attributes=displayName`,
      attribute: 'members',
      present: false,
    },
    {
      label: 'a Group in a list: members is omitted',
      path: () => `/Groups?filter=${encodeURIComponent('displayName eq "rt-empty"')}`,
      attribute: 'members',
      present: false,
    },
    {
      label: 'a User in no group: groups is omitted',
      path: () => `/Users/${userId}`,
      attribute: 'groups',
      present: false,
    },
    {
      label: 'a User, attributes=groups: groups is []',
      path: () => `/Users/${userId}?attributes=groups`,
      attribute: 'groups',
      present: true,
    },
  ];

  eachRow(reads, async ({ path, attribute, present }) => {
    const r = await t.request('GET', path());
    expect(r.status, r.text).toBe(200);
    const resource = r.body.Resources ? r.body.Resources[0] : r.body;
    expect(resource[attribute]).toEqual(present ? [] : undefined);
  });

  const groupWrites: (Row & { body: Json; afterCreate?: (id: string) => Promise<void> })[] = [
    {
      label: 'Group POST without members',
      body: { schemas: [GROUP], displayName: 'rt-g1' },
    },
    {
      label: 'Group POST with members: []',
      body: { schemas: [GROUP], displayName: 'rt-g2', members: [] },
    },
    {
      label: 'Group PATCH removing the last member',
      body: { schemas: [GROUP], displayName: 'rt-g3' },
      afterCreate: async (id) => {
        const add = patchBody({ op: 'add', path: 'members', value: [{ value: userId }] });
        expect((await t.request('PATCH', `/Groups/${id}`, add)).status).toBe(204);
        const remove = patchBody({ op: 'remove', path: `members[value eq "${userId}"]` });
        expect((await t.request('PATCH', `/Groups/${id}`, remove)).status).toBe(204);
      },
    },
    {
      label: 'Group PUT with members: []',
      body: { schemas: [GROUP], displayName: 'rt-g4' },
      afterCreate: async (id) => {
        const put = await t.request('PUT', `/Groups/${id}`, {
          schemas: [GROUP],
          displayName: 'rt-g4',
          members: [],
        });
        expect(put.status, put.text).toBe(200);
        expect(put.body.members).toBeUndefined();
      },
    },
  ];

  eachRow(
    groupWrites,
    async ({ body, afterCreate }) => {
      const created = await t.request('POST', '/Groups', body);
      expect(created.status, created.text).toBe(201);
      if (!afterCreate) expect(created.body.members).toBeUndefined();
      await afterCreate?.(created.body.id);
      const r = await t.request('GET', `/Groups/${created.body.id}`);
      expect(r.body.members).toBeUndefined();
      expect(extrasIn(r.body, body)).toEqual([]);
    },
    ': members omitted, the rest exact',
  );
});

/**
 * Users end to end over HTTP against a real slapd and redis-server (the local default stack).
 * Outcomes are checked in the directory itself with a separate ldapts client, not only through
 * the bridge's own answers.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../harness/bridge.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let t: TestBridge;
let ldap: Client;

async function ldapEntry(filter: string): Promise<Record<string, unknown> | undefined> {
  const { searchEntries } = await ldap.search('ou=People,dc=example,dc=com', {
    scope: 'one',
    filter,
    attributes: ['*', 'entryUUID'],
  });
  return searchEntries[0];
}

async function peopleCount(): Promise<number> {
  const { searchEntries } = await ldap.search('ou=People,dc=example,dc=com', {
    scope: 'one',
    filter: '(objectClass=inetOrgPerson)',
    attributes: ['1.1'],
  });
  return searchEntries.length;
}

function newUser(userName: string, extra: Record<string, unknown> = {}) {
  return {
    schemas: [USER],
    userName,
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    displayName: 'Ada Lovelace',
    emails: [{ value: `${userName}@example.org`, type: 'work', primary: true }],
    active: true,
    ...extra,
  };
}

beforeAll(async () => {
  t = await startTestBridge();
  ldap = await rootClientOf(t);
});

afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
});

describe('discovery', () => {
  it('ServiceProviderConfig advertises patch, filter limits, sort and etag', async () => {
    const r = await t.request('GET', '/ServiceProviderConfig');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(r.body.patch.supported).toBe(true);
    expect(r.body.etag.supported).toBe(true);
    expect(r.body.filter).toEqual({ supported: true, maxResults: 1000 });
    expect(r.body.authenticationSchemes[0].type).toBe('oauthbearertoken');
  });

  it('ResourceTypes lists the mapped types with their extensions', async () => {
    const r = await t.request('GET', '/ResourceTypes');
    expect(r.status).toBe(200);
    const names = r.body.Resources.map((x: { name: string }) => x.name).sort();
    expect(names).toEqual(['Group', 'User']);
    const user = r.body.Resources.find((x: { name: string }) => x.name === 'User');
    expect(user.endpoint).toBe('/Users');
    expect(user.schemaExtensions).toEqual([
      { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', required: false },
    ]);
  });

  it('Schemas publishes mapped attributes and nothing unmapped', async () => {
    const r = await t.request('GET', `/Schemas/${USER}`);
    expect(r.status).toBe(200);
    const names = r.body.attributes.map((a: { name: string }) => a.name);
    expect(names).toContain('userName');
    expect(names).toContain('emails');
    expect(names).not.toContain('nickName');
    expect(names).not.toContain('x509Certificates');
    const userName = r.body.attributes.find((a: { name: string }) => a.name === 'userName');
    expect(userName).toMatchObject({ required: true, uniqueness: 'server', caseExact: false });
  });
});

describe('authentication', () => {
  it('refuses a request without a token with 401, a SCIM error and a challenge', async () => {
    const r = await fetch(`${t.baseUrl}/Users`);
    const body = (await r.json()) as any;
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(body).toMatchObject({ schemas: [ERROR], status: '401' });
    expect(body.detail).toBeTruthy();
  });

  it('refuses a wrong token', async () => {
    const r = await t.request('GET', '/Users', undefined, { Authorization: 'Bearer not-the-token' });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('leaves /health and /ready open and reports both dependencies', async () => {
    const health = await fetch(`${t.bridge.url}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${t.bridge.url}/ready`);
    const body = (await ready.json()) as any;
    expect(ready.status).toBe(200);
    expect(body.checks.directory.ok).toBe(true);
    expect(body.checks.redis.ok).toBe(true);
  });
});

describe('Users CRUD', () => {
  it('creates a user: 201, Location, meta, entryUUID as id, the entry in the directory', async () => {
    const r = await t.request('POST', '/Users', newUser('ada'));
    expect(r.status).toBe(201);
    expect(r.body.id).toMatch(UUID);
    expect(r.headers.get('location')).toBe(`${t.baseUrl}/Users/${r.body.id}`);
    expect(r.body.meta).toMatchObject({ resourceType: 'User', location: r.headers.get('location') });
    expect(r.body.meta.version).toMatch(/^W\/".+"$/);
    expect(r.headers.get('etag')).toBe(r.body.meta.version);
    const entry = await ldapEntry('(uid=ada)');
    expect(entry).toBeDefined();
    expect(entry?.entryUUID).toBe(r.body.id);
    expect(entry?.mail).toBe('ada@example.org');
    expect(entry?.sn).toBe('Lovelace');
    expect(entry?.scimActive).toBe('TRUE');
  });

  it('reads it back by id with the same content', async () => {
    const created = await t.request('POST', '/Users', newUser('grace', { title: 'Rear Admiral' }));
    const r = await t.request('GET', `/Users/${created.body.id}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: created.body.id,
      userName: 'grace',
      title: 'Rear Admiral',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      active: true,
      emails: [{ value: 'grace@example.org', type: 'work', primary: true }],
    });
    expect(r.body.password).toBeUndefined();
  });

  it('refuses a duplicate userName, whatever its case, with 409 uniqueness and writes nothing', async () => {
    await t.request('POST', '/Users', newUser('linus'));
    const before = await peopleCount();
    const r = await t.request('POST', '/Users', newUser('LINUS'));
    expect(r.status).toBe(409);
    expect(r.body.scimType).toBe('uniqueness');
    expect(await peopleCount()).toBe(before);
  });

  it('filters by userName eq, case-insensitively, and pages with startIndex and count', async () => {
    await t.request('POST', '/Users', newUser('margaret'));
    const r = await t.request('GET', `/Users?filter=${encodeURIComponent('userName eq "MARGARET"')}`);
    expect(r.status).toBe(200);
    expect(r.body.totalResults).toBe(1);
    expect(r.body.Resources[0].userName).toBe('margaret');

    const total = await peopleCount();
    const page1 = await t.request('GET', '/Users?startIndex=1&count=2');
    const page2 = await t.request('GET', '/Users?startIndex=3&count=2');
    expect(page1.body.totalResults).toBe(total);
    expect(page1.body.itemsPerPage).toBe(2);
    expect(page2.body.startIndex).toBe(3);
    const ids = [...page1.body.Resources, ...page2.body.Resources].map((u: { id: string }) => u.id);
    expect(new Set(ids).size).toBe(4);
  });

  it('replaces a user with PUT: changed attributes written, omitted ones removed', async () => {
    const created = await t.request('POST', '/Users', newUser('alan', { title: 'Mathematician' }));
    const r = await t.request('PUT', `/Users/${created.body.id}`, {
      schemas: [USER],
      userName: 'alan',
      name: { givenName: 'Alan', familyName: 'Turing' },
      displayName: 'Alan Turing',
    });
    expect(r.status).toBe(200);
    expect(r.body.displayName).toBe('Alan Turing');
    expect(r.body.title).toBeUndefined();
    const entry = await ldapEntry('(uid=alan)');
    expect(entry?.displayName).toBe('Alan Turing');
    expect(entry?.title).toBeUndefined();
    expect(entry?.sn).toBe('Turing');
    // active was not sent: it must not be cleared or disabled (Okta's PUT leaves it out)
    expect(entry?.scimActive).toBe('TRUE');
  });

  it('patches simple attributes with replace', async () => {
    const created = await t.request('POST', '/Users', newUser('barbara'));
    const r = await t.request('PATCH', `/Users/${created.body.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'Barbara Liskov' },
        { op: 'replace', path: 'active', value: false },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.displayName).toBe('Barbara Liskov');
    expect(r.body.active).toBe(false);
    const entry = await ldapEntry('(uid=barbara)');
    expect(entry?.displayName).toBe('Barbara Liskov');
    expect(entry?.scimActive).toBe('FALSE');
  });

  it('keeps the id across a rename (userName feeds the RDN)', async () => {
    const created = await t.request('POST', '/Users', newUser('edsger'));
    const r = await t.request('PATCH', `/Users/${created.body.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'userName', value: 'edsger.dijkstra' }],
    });
    expect(r.status).toBe(200);
    expect(r.body.id).toBe(created.body.id);
    expect(await ldapEntry('(uid=edsger)')).toBeUndefined();
    const entry = await ldapEntry('(uid=edsger.dijkstra)');
    expect(entry?.entryUUID).toBe(created.body.id);
    expect(String(entry?.dn)).toMatch(/^uid=edsger\.dijkstra,/);
  });

  it('deletes a user: 204, then 404, and the entry is gone', async () => {
    const created = await t.request('POST', '/Users', newUser('ken'));
    const r = await t.request('DELETE', `/Users/${created.body.id}`);
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    const again = await t.request('GET', `/Users/${created.body.id}`);
    expect(again.status).toBe(404);
    expect(again.body.schemas).toEqual([ERROR]);
    expect(await ldapEntry('(uid=ken)')).toBeUndefined();
  });
});

describe('bad input changes nothing and gets the right SCIM error', () => {
  const cases: [string, () => Promise<{ status: number; body: any }>, number, string | undefined][] = [
    ['malformed JSON', () => t.request('POST', '/Users', '{"userName": '), 400, 'invalidSyntax'],
    [
      'userName of the wrong type',
      () => t.request('POST', '/Users', { schemas: [USER], userName: 42 }),
      400,
      'invalidValue',
    ],
    [
      'active that is not a boolean',
      () => t.request('POST', '/Users', newUser('bad1', { active: 'maybe' })),
      400,
      'invalidValue',
    ],
    [
      'missing userName',
      () => t.request('POST', '/Users', { schemas: [USER], displayName: 'x' }),
      400,
      'invalidValue',
    ],
    [
      'a malformed filter',
      () => t.request('GET', `/Users?filter=${encodeURIComponent('userName eq')}`),
      400,
      'invalidFilter',
    ],
    [
      'a filter on an unmapped attribute',
      () => t.request('GET', `/Users?filter=${encodeURIComponent('nickName eq "x"')}`),
      400,
      'invalidFilter',
    ],
    ['a non-numeric count', () => t.request('GET', '/Users?count=ten'), 400, 'invalidValue'],
    ['an unknown id', () => t.request('GET', '/Users/00000000-0000-0000-0000-000000000000'), 404, undefined],
    [
      'an id that is not a UUID',
      () => t.request('GET', '/Users/010101001010101011001010101011'),
      404,
      undefined,
    ],
    ['an unknown resource type', () => t.request('GET', '/Widgets'), 404, undefined],
    [
      'a PATCH without PatchOp schema',
      () => t.request('PATCH', '/Users/00000000-0000-0000-0000-000000000000', { Operations: [] }),
      400,
      'invalidSyntax',
    ],
  ];
  it.each(cases)('%s', async (_name, send, status, scimType) => {
    const before = await peopleCount();
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.body.schemas).toEqual([ERROR]);
    expect(r.body.status).toBe(String(status));
    expect(r.body.detail).toEqual(expect.any(String));
    if (scimType) expect(r.body.scimType).toBe(scimType);
    expect(await peopleCount()).toBe(before);
  });

  it('names the attribute in an invalidValue detail', async () => {
    const r = await t.request('POST', '/Users', newUser('bad2', { active: 'maybe' }));
    expect(r.body.detail).toContain('active');
  });

  it('refuses a body over the limit with 413', async () => {
    const huge = JSON.stringify(newUser('big', { displayName: 'x'.repeat(1_100_000) }));
    const r = await t.request('POST', '/Users', huge);
    expect(r.status).toBe(413);
    expect(await ldapEntry('(uid=big)')).toBeUndefined();
  });

  it('answers an unknown route with a SCIM 404', async () => {
    const r = await t.request('GET', '/not/a/route/at/all');
    expect(r.status).toBe(404);
    expect(r.body.schemas).toEqual([ERROR]);
  });

  it('accepts application/json and echoes X-Request-Id', async () => {
    const r = await t.request('POST', '/Users', newUser('json1'), {
      'Content-Type': 'application/json',
      'X-Request-Id': 'req-123',
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-request-id')).toBe('req-123');
  });
});

describe('a directory that goes away', () => {
  it('answers 503 with Retry-After, not 500 or a hang, and /ready says why', async () => {
    const other = await startTestBridge();
    try {
      const slapd = other.bridge.local!.slapd!;
      const before = await other.request('GET', '/Users?count=1');
      expect(before.status).toBe(200);
      await slapd.stop();
      const r = await other.request('GET', '/Users?count=1');
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
      const ready = await fetch(`${other.bridge.url}/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as any).reason).toContain('directory');
    } finally {
      await other.stop();
    }
  });
});

/**
 * The preview and resource pages against a running bridge (real slapd, real Redis, events on):
 * a preview performs nothing, an entry reads beside its resource with its secrets hidden, a
 * filter search pages with the bridge's cursors, a resource shows its memberships and events, and
 * hostile or malformed input is refused with a 4xx or shown escaped.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { type Receiver, startReceiver } from '../jobs/receiver.ts';
import { escaped, type Pages, pageHtml, pagesFor, until } from './pages.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const SECRET = 'admin-pages-webhook-secret-0123';
const PASSWORD = 'Never-On-A-Page-42';
const HOSTILE = '<script>alert(1)</script>';

let t: TestBridge;
let pages: Pages;
let receiver: Receiver;
let ldap: Client;

beforeAll(async () => {
  receiver = await startReceiver(SECRET);
  t = await startTestBridge({
    env: {
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([{ name: 'hook', url: receiver.url, secret: SECRET }]),
    },
  });
  pages = pagesFor(t);
  ldap = await rootClientOf(t);
});

afterAll(async () => {
  await ldap?.unbind();
  pages?.close();
  await t?.stop();
  await receiver?.close();
});

/** The entry's attributes as the directory holds them (root bind, independent of the bridge). */
async function rawEntry(dn: string): Promise<Record<string, unknown>> {
  const { searchEntries } = await ldap.search(dn, { scope: 'base', attributes: ['*', '+'] });
  return { ...searchEntries[0] };
}

async function userId(userName: string): Promise<string> {
  const r = await t.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
  return r.body.Resources[0].id as string;
}

describe('preview', () => {
  it('a PATCH of an existing user shows its modify on the real DN and changes nothing', async () => {
    const id = await userId('alice');
    const before = await rawEntry('uid=alice,ou=People,dc=example,dc=com');
    const body = JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'displayName', value: `Alice ${HOSTILE}` }],
    });
    const html = pageHtml(
      await pages.get(
        `/admin/mappings/Users/preview?${new URLSearchParams({ method: 'PATCH', path: `/Users/${id}`, body })}`,
      ),
    );
    expect(html).toContain('dn: uid=alice,ou=People,dc=example,dc=com');
    expect(html).toContain('replace: displayName');
    expect(html).toContain('read from the directory');
    expect(html).not.toContain('<script>');
    expect(html).toContain(escaped(HOSTILE));
    expect(await rawEntry('uid=alice,ou=People,dc=example,dc=com')).toEqual(before);
  });

  it('a DELETE shows the delete without performing it', async () => {
    const id = await userId('erin');
    const html = pageHtml(
      await pages.get(
        `/admin/mappings/Users/preview?${new URLSearchParams({ method: 'DELETE', path: `/Users/${id}` })}`,
      ),
    );
    expect(html).toContain('dn: uid=erin,ou=People,dc=example,dc=com\nchangetype: delete');
    expect((await t.request('GET', `/Users/${id}`)).status).toBe(200);
    expect((await rawEntry('uid=erin,ou=People,dc=example,dc=com')).uid).toBe('erin');
  });

  it.each([
    [
      'a body that is not JSON',
      { method: 'POST', path: '/Users', body: `{"userName": ${HOSTILE}` },
      'body: not JSON',
    ],
    ['an unknown method', { method: 'TRACE', path: '/Users' }, 'method'],
    ['an unknown endpoint', { method: 'GET', path: `/${HOSTILE}` }, 'no resource type'],
    ['a PATCH without an id', { method: 'PATCH', path: '/Users', body: '{}' }, 'needs /Users/<id>'],
  ])('%s is a 400 saying what is wrong', async (_, fields, words) => {
    const outcome = await pages.get(`/admin/mappings/Users/preview?${new URLSearchParams(fields)}`);
    expect(outcome).toMatchObject({ kind: 'problem', status: 400 });
    expect(outcome.kind === 'problem' && outcome.message).toContain(words);
  });

  it('a request the bridge would refuse shows its SCIM error, not a failure of the page', async () => {
    const body = JSON.stringify({ schemas: [USER], name: { givenName: 'No user name' } });
    const html = pageHtml(
      await pages.get(
        `/admin/mappings/Users/preview?${new URLSearchParams({ method: 'POST', path: '/Users', body })}`,
      ),
    );
    expect(html).toMatch(/SCIM 400 invalidValue: .*userName/);
    const list = pageHtml(
      await pages.get(
        `/admin/mappings/Users/preview?${new URLSearchParams({ method: 'GET', path: '/Users?filter=userName%20eq' })}`,
      ),
    );
    expect(list).toContain('SCIM 400 invalidFilter');
    expect(list).toContain('# no LDAP operation');
  });
});

describe('an entry beside its resource', () => {
  let id: string;
  beforeAll(async () => {
    const created = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'pages-frank',
      password: PASSWORD,
      displayName: HOSTILE,
    });
    expect(created.status).toBe(201);
    id = created.body.id as string;
  });

  it('by DN and by id: raw attributes with the password as (set), and the SCIM resource', async () => {
    const byDn = pageHtml(
      await pages.get(
        `/admin/mappings/Users/entry?ref=${encodeURIComponent('uid=pages-frank,ou=People,dc=example,dc=com')}`,
      ),
    );
    const byId = pageHtml(await pages.get(`/admin/mappings/Users/entry?ref=${id}`));
    for (const html of [byDn, byId]) {
      expect(html).toMatch(/<code>userpassword<\/code><\/th>\s*<td><div><code>\(set\)<\/code>/);
      expect(html).not.toContain(PASSWORD);
      expect(html).not.toMatch(/\{SSHA\}|\{CRYPT\}|\{PBKDF2/i);
      expect(html).toContain(`&quot;id&quot;: &quot;${id}&quot;`);
      expect(html).toContain(escaped(HOSTILE));
      expect(html).not.toContain('<script>');
    }
  });

  it.each([
    ['a DN that does not parse', 400, `cn=${HOSTILE},,`],
    ['a DN outside the type', 404, 'cn=engineering,ou=Groups,dc=example,dc=com'],
    ['an unknown id', 404, '2b0c8d3e-0000-4000-8000-000000000000'],
  ])('%s is a %s', async (_, status, ref) => {
    const outcome = await pages.get(`/admin/mappings/Users/entry?ref=${encodeURIComponent(ref)}`);
    expect(outcome).toMatchObject({ kind: 'problem', status });
  });
});

describe('resources', () => {
  it('a filter finds a user; its page shows the entry, its groups and its events', async () => {
    const created = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'pages-grace',
      password: PASSWORD,
    });
    const id = created.body.id as string;
    const group = await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'pages-team',
      members: [{ value: id }],
    });
    expect(group.status).toBe(201);

    const list = pageHtml(
      await pages.get(`/admin/resources/Users?filter=${encodeURIComponent('userName eq "pages-grace"')}`),
    );
    expect(list).toContain('1 match(es)');
    expect(list).toContain(`href="/admin/resources/Users/${id}"`);

    await receiver.waitFor(
      () => receiver.accepted().some((d) => d.event?.resourceId === id),
      10_000,
      'the event',
    );
    const page = await until(
      () => pages.get(`/admin/resources/Users/${id}`).then(pageHtml),
      (html) => html.includes('user.created') && html.includes('completed'),
    );
    expect(page).toContain('Group memberships (1)');
    expect(page).toContain(`href="/admin/resources/Groups/${group.body.id}"`);
    expect(page).toContain('pages-team');
    expect(page).toContain('dn: <code>uid=pages-grace,ou=People,dc=example,dc=com</code>');
    expect(page).not.toContain(PASSWORD);
    expect(page).toMatch(/<code>userpassword<\/code><\/th>\s*<td><div><code>\(set\)<\/code>/);

    const groupPage = pageHtml(await pages.get(`/admin/resources/Groups/${group.body.id}`));
    expect(groupPage).toContain('Members (1)');
    expect(groupPage).toContain(`href="/admin/resources/Users/${id}"`);
  });

  it('pages through a search with the bridge cursors, forward and back', async () => {
    for (let i = 0; i < 30; i++) {
      const r = await t.request('POST', '/Users', {
        schemas: [USER],
        userName: `pages-many-${String(i).padStart(2, '0')}`,
      });
      expect(r.status).toBe(201);
    }
    const filter = 'userName sw "pages-many-"';
    const first = pageHtml(await pages.get(`/admin/resources/Users?filter=${encodeURIComponent(filter)}`));
    const names = (html: string) => [...html.matchAll(/>(pages-many-\d\d)<\/a>/g)].map((m) => m[1]);
    expect(first).toContain('30 match(es)');
    expect(names(first)).toHaveLength(25);
    expect(first).not.toContain('rel="prev"');
    const next = /rel="next" href="([^"]+)"/.exec(first)?.[1];
    expect(next).toBeDefined();
    const second = pageHtml(await pages.get((next as string).replace(/&amp;/g, '&')));
    expect(names(second)).toHaveLength(5);
    expect(new Set([...names(first), ...names(second)]).size).toBe(30);
    expect(second).not.toContain('rel="next"');
    const previous = /rel="prev" href="([^"]+)"/.exec(second)?.[1];
    const back = pageHtml(await pages.get((previous as string).replace(/&amp;/g, '&')));
    expect(names(back)).toEqual(names(first));
  });

  it('a big group is shown with its first 100 values per list, saying how many more', async () => {
    const dns: string[] = [];
    for (let i = 0; i < 110; i++) {
      const uid = `pages-big-${i}`;
      const dn = `uid=${uid},ou=People,dc=example,dc=com`;
      await ldap.add(dn, { objectClass: ['inetOrgPerson'], uid, cn: uid, sn: uid });
      dns.push(dn);
    }
    await ldap.add('cn=pages-big,ou=Groups,dc=example,dc=com', {
      objectClass: ['groupOfNames'],
      cn: 'pages-big',
      member: dns,
    });
    const found = await t.request(
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "pages-big"')}`,
    );
    const html = pageHtml(await pages.get(`/admin/resources/Groups/${found.body.Resources[0].id}`));
    expect(html).toContain('Members (110)');
    expect(html).toContain('<li class="muted">… and 10 more</li>');
    expect(html).toContain('<p class="muted">… and 10 more</p>');
    expect(html).toContain('Shortened: members: the first 100 of 110.');
    expect(
      html.match(/<div><code>uid=pages-big-\d+,ou=People,dc=example,dc=com<\/code><\/div>/g),
    ).toHaveLength(100);
  });

  it('a filter with markup is shown escaped', async () => {
    const html = pageHtml(
      await pages.get(`/admin/resources/Users?filter=${encodeURIComponent(`userName eq "${HOSTILE}"`)}`),
    );
    expect(html).toContain('0 match(es)');
    expect(html).not.toContain('<script>');
    expect(html).toContain(escaped(HOSTILE));
  });

  it.each([
    ['a malformed filter', 400, '/admin/resources/Users?filter=userName%20eq', 'invalidFilter'],
    ['a filter on an unknown attribute', 400, '/admin/resources/Users?filter=shoeSize%20eq%201', 'shoeSize'],
    ['a forged cursor', 400, '/admin/resources/Users?cursor=AAAA', 'cursor'],
    ['an unknown type', 404, '/admin/resources/Printers', 'Printers'],
    ['an unknown id', 404, '/admin/resources/Users/2b0c8d3e-0000-4000-8000-000000000000', 'not found'],
    ['an id with markup', 404, `/admin/resources/Users/${encodeURIComponent(HOSTILE)}`, 'not found'],
  ])('%s is a %s with the SCIM detail', async (_, status, url, words) => {
    const outcome = await pages.get(url);
    expect(outcome).toMatchObject({ kind: 'problem', status });
    expect(outcome.kind === 'problem' && outcome.message).toContain(words);
  });
});

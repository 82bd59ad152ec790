/**
 * The admin console's defences against a real bridge (its own slapd and Redis): no session means
 * the sign-in page; a token without the admin scope is refused; every POST without the session's
 * CSRF token, with another session's, or from another origin is refused, audited and changes
 * nothing; every answer carries the CSP and the other headers; no page holds a secret.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { ConsoleClient, csrfOf, navLinks } from './helpers.ts';

const readerToken = randomBytes(24).toString('base64url');
const metricsToken = randomBytes(24).toString('base64url');
let t: TestBridge;
let redis: Redis;
let admin: ConsoleClient;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function auditRecords(): Promise<
  { who: string; action: string; outcome: string; detail: Record<string, string> }[]
> {
  const rows = await redis.xrange('scim-bridge:admin-audit', '-', '+');
  return rows.map(([, fields]) => JSON.parse(fields[1] ?? '{}'));
}

beforeAll(async () => {
  t = await startTestBridge({
    env: {
      SCIM_BRIDGE_AUTH_TOKENS: JSON.stringify([
        { name: 'reader', sha256: sha256(readerToken), scopes: ['users:read'] },
      ]),
      SCIM_BRIDGE_METRICS_TOKEN: metricsToken,
      // These tests sign in many times from one address; the limit has its own test.
      SCIM_BRIDGE_ADMIN_SIGN_IN_ATTEMPTS: '1000',
    },
  });
  redis = new Redis(t.bridge.local?.redis?.url ?? '');
  admin = new ConsoleClient(t.bridge.url);
  const signedIn = await admin.signIn(t.token);
  expect(signedIn.status).toBe(303);
  expect(signedIn.location).toBe('/admin');
});

afterAll(async () => {
  redis?.disconnect();
  await t?.stop();
});

describe('without a session', () => {
  it.each(['/admin', '/admin/clients', '/admin/audit', '/admin/clients?x=1'])(
    'GET %s redirects (303) to the sign-in page with the path to come back to',
    async (path) => {
      const answer = await new ConsoleClient(t.bridge.url).get(path);
      expect(answer.status).toBe(303);
      expect(answer.location).toBe(`/admin/sign-in?next=${encodeURIComponent(path)}`);
    },
  );

  it('a POST without a session changes nothing and is sent to sign in', async () => {
    const answer = await new ConsoleClient(t.bridge.url).post('/admin/sign-out', { _csrf: 'x' });
    expect(answer.status).toBe(303);
    expect(answer.location).toMatch(/^\/admin\/sign-in\?/);
  });

  it.each([
    '//evil.example.test/',
    'https://evil.example.test/admin',
    '/admin/../../x',
    '/\\evil.example.test',
    '/saml/session',
  ])('never sends the browser elsewhere after sign-in (next=%s)', async (next) => {
    const client = new ConsoleClient(t.bridge.url);
    const page = await client.get(`/admin/sign-in?next=${encodeURIComponent(next)}`);
    expect(page.text).toContain('name="next" value="/admin"');
    const answer = await client.post('/admin/sign-in', { _csrf: csrfOf(page.text), token: t.token, next });
    expect(answer.status).toBe(303);
    expect(answer.location).toBe('/admin');
  });
});

describe('sign-in refusals', () => {
  it('refuses a valid token without the admin scope (403, audited, no session)', async () => {
    const client = new ConsoleClient(t.bridge.url);
    const answer = await client.signIn(readerToken);
    expect(answer.status).toBe(403);
    expect(answer.text).toContain('does not have the admin scope');
    expect(client.sessionId).toBe('');
    expect((await client.get('/admin')).status).toBe(303);
    const records = await auditRecords();
    expect(
      records.some(
        (r) => r.who === 'reader' && r.action === 'POST /admin/sign-in' && r.outcome === 'refused',
      ),
    ).toBe(true);
    expect(JSON.stringify(records)).not.toContain(readerToken);
  });

  it.each<[string, (csrf: string) => Record<string, string>, Record<string, string>, number]>([
    ['an unknown token', (csrf) => ({ _csrf: csrf, token: 'not-a-token' }), {}, 401],
    ['an empty token', (csrf) => ({ _csrf: csrf, token: '' }), {}, 400],
    ['no CSRF field', () => ({ token: 'x' }), {}, 403],
    ['another site', (csrf) => ({ _csrf: csrf, token: 'x' }), { Origin: 'https://evil.example.test' }, 403],
  ])('refuses %s', async (_name, fields, headers, status) => {
    const client = new ConsoleClient(t.bridge.url);
    const page = await client.get('/admin/sign-in');
    const answer = await client.post('/admin/sign-in', fields(csrfOf(page.text)), headers);
    expect(answer.status).toBe(status);
    expect(client.sessionId).toBe('');
  });
});

describe('CSRF on the POSTs of a session', () => {
  async function stillSignedIn(client: ConsoleClient): Promise<boolean> {
    return (await client.get('/admin/audit')).status === 200;
  }

  it.each<[string, (own: string, other: string) => Record<string, string>, Record<string, string>]>([
    ['no token', () => ({}), {}],
    ['a wrong token', () => ({ _csrf: 'A'.repeat(43) }), {}],
    ["another session's token", (_own, other) => ({ _csrf: other }), {}],
    ['a cross-origin Origin', (own) => ({ _csrf: own }), { Origin: 'https://evil.example.test' }],
    [
      'a cross-origin Referer without Origin',
      (own) => ({ _csrf: own }),
      { Origin: '', Referer: 'https://evil.example.test/x' },
    ],
    ['neither Origin nor Referer', (own) => ({ _csrf: own }), { Origin: '' }],
  ])('refuses sign-out with %s: 403, audited, the session lives on', async (name, fields, headers) => {
    const client = new ConsoleClient(t.bridge.url);
    expect((await client.signIn(t.token)).status).toBe(303);
    const other = new ConsoleClient(t.bridge.url);
    expect((await other.signIn(t.token)).status).toBe(303);
    const own = csrfOf((await client.get('/admin')).text);
    const othersToken = csrfOf((await other.get('/admin')).text);
    expect(othersToken).not.toBe(own);
    const before = (await auditRecords()).length;
    const answer = await client.post('/admin/sign-out', fields(own, othersToken), headers);
    expect(answer.status, name).toBe(403);
    expect(answer.text).toContain('Refused');
    expect(answer.text).toContain('Nothing was changed');
    expect(await stillSignedIn(client)).toBe(true);
    const added = (await auditRecords()).slice(before);
    expect(added.some((r) => r.action === 'POST /admin/sign-out' && r.outcome === 'refused')).toBe(true);
  });

  it('signs out with the right token and origin: the session is gone on the server', async () => {
    const client = new ConsoleClient(t.bridge.url);
    expect((await client.signIn(t.token)).status).toBe(303);
    const sessionId = client.sessionId;
    const answer = await client.post('/admin/sign-out', { _csrf: csrfOf((await client.get('/admin')).text) });
    expect(answer.status).toBe(303);
    expect(answer.location).toBe('/admin/sign-in');
    const replayed = new ConsoleClient(t.bridge.url);
    replayed.cookies.set('__Host-scim_bridge_admin', sessionId);
    expect((await replayed.get('/admin')).status).toBe(303);
    expect(await redis.exists(`scim-bridge:session:${sha256(sessionId)}`)).toBe(0);
  });
});

describe('headers and secrets on every page', () => {
  const CSP =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

  async function pages(): Promise<[string, Awaited<ReturnType<ConsoleClient['get']>>][]> {
    const overview = await admin.get('/admin');
    const links = navLinks(overview.text);
    expect(links).toEqual(expect.arrayContaining(['/admin', '/admin/clients', '/admin/audit']));
    const paths = [...links, '/admin/sign-in', '/admin/no-such-page'];
    return Promise.all(paths.map(async (path) => [path, await admin.get(path)] as [string, typeof overview]));
  }

  it('every page has the CSP (no inline script or style), nosniff, no referrer to others, no-store', async () => {
    for (const [path, answer] of await pages()) {
      expect(answer.headers.get('content-security-policy'), path).toBe(CSP);
      expect(answer.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(answer.headers.get('referrer-policy'), path).toBe('same-origin');
      expect(answer.headers.get('cache-control'), path).toBe('no-store');
      expect(answer.text, path).not.toMatch(/<script|\sstyle=|<style/i);
    }
  });

  it('no page holds a token, its hash, the bind password, another session id or the metrics token', async () => {
    const other = new ConsoleClient(t.bridge.url);
    await other.signIn(t.token);
    const slapd = t.bridge.local?.slapd;
    const secrets = [
      t.token,
      sha256(t.token),
      readerToken,
      sha256(readerToken),
      metricsToken,
      slapd?.servicePassword ?? 'no-slapd',
      slapd?.rootPassword ?? 'no-slapd',
      admin.sessionId,
      other.sessionId,
      csrfOf((await other.get('/admin')).text),
    ];
    for (const [path, answer] of await pages()) {
      for (const secret of secrets)
        expect(answer.text.includes(secret), `${path} holds a secret`).toBe(false);
    }
  });

  it('client text in pages is escaped: a hostile userName in a refusal, a hostile filter value', async () => {
    const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const user = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: hostile };
    expect((await t.request('POST', '/Users', user)).status).toBe(201);
    expect((await t.request('POST', '/Users', user)).status).toBe(409);
    const overview = await admin.get(`/admin?outcome=failed&client=${encodeURIComponent(hostile)}`);
    expect(overview.status).toBe(200);
    expect(overview.text).not.toContain('<script>alert');
    expect(overview.text).not.toContain('<img src=x');
    expect(overview.text).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;');
    const all = await admin.get('/admin?outcome=failed');
    expect(all.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;');
  });

  it('the stylesheet is served with long caching and a CSS type', async () => {
    const overview = await admin.get('/admin');
    const href = /<link rel="stylesheet" href="([^"]+)">/.exec(overview.text)?.[1] ?? '';
    const css = await admin.get(href);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });
});

/**
 * The admin console in a real browser (Debian's chromium, headless): sign in with a token, sign in
 * through SAML Web SSO against the local test IdP, open the overview, sign out. Each journey
 * prints its time and leaves a screenshot in artifacts/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_GROUP,
  type ConsoleEnv,
  headingOf,
  IDP_NAME,
  READER_GROUP,
  screenshot,
  signInWithToken,
  skipWithoutChromium,
  startConsoleEnv,
} from './harness.ts';

const SUITE = 'admin console journeys (chromium)';

describe.skipIf(skipWithoutChromium(SUITE))(SUITE, () => {
  let env: ConsoleEnv;
  const started = new Map<string, number>();

  beforeAll(async () => {
    env = await startConsoleEnv();
  });
  afterAll(async () => {
    await env?.stop();
  });

  function timed(name: string): () => void {
    started.set(name, performance.now());
    return () =>
      console.log(`journey "${name}": ${Math.round(performance.now() - (started.get(name) ?? 0))} ms`);
  }

  it('without a session, a console page sends the browser to the sign-in page', async () => {
    const page = await env.newPage();
    await page.goto(`${env.origin}/admin/clients`);
    expect(new URL(page.url()).pathname).toBe('/admin/sign-in');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/admin/clients');
    expect(await headingOf(page)).toBe('Sign in');
    expect(await page.$$eval('a.button', (links) => links.map((a) => a.textContent))).toEqual([
      `Sign in with ${IDP_NAME}`,
    ]);
    await screenshot(page, 'sign-in');
    await page.browserContext().close();
  });

  it('signs in with the admin token, opens the overview, signs out', async () => {
    const done = timed('token sign-in, overview, sign-out');
    const page = await env.newPage();
    await signInWithToken(page, env.origin, env.bridge.token);
    expect(new URL(page.url()).pathname).toBe('/admin');
    expect(await headingOf(page)).toBe('Overview');
    const cookies = await page.browserContext().cookies();
    const session = cookies.find((c) => c.name === '__Host-scim_bridge_admin');
    expect(session).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Strict', path: '/' });
    const readiness = await page.$eval('#readiness', (h) => h.textContent ?? '');
    expect(readiness).toBe('Readiness: ready');
    expect(await page.$eval('.who strong', (s) => s.textContent)).toBe('auth.token');
    await screenshot(page, 'overview');
    await Promise.all([page.waitForNavigation(), page.click('nav a[href="/admin/clients"]')]);
    expect(await headingOf(page)).toBe('Clients and trust');
    expect(await page.$eval('#configured ~ .table-wrap tbody', (t) => t.textContent ?? '')).toContain(
      'auth.token',
    );
    await screenshot(page, 'clients');
    await page.setViewport({ width: 390, height: 844, isMobile: true });
    await page.goto(`${env.origin}/admin`);
    await screenshot(page, 'overview-phone');
    await Promise.all([page.waitForNavigation(), page.click('form[action="/admin/sign-out"] button')]);
    expect(new URL(page.url()).pathname).toBe('/admin/sign-in');
    expect((await page.browserContext().cookies()).map((c) => c.name)).not.toContain(
      '__Host-scim_bridge_admin',
    );
    // The session is gone on the server too: the overview asks for a sign-in again.
    await page.goto(`${env.origin}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/sign-in');
    done();
    await page.browserContext().close();
  });

  it('shows a SCIM write and its refusal in the overview, filterable', async () => {
    const user = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'overview.probe' };
    expect((await env.bridge.request('POST', '/Users', user)).status).toBe(201);
    expect((await env.bridge.request('POST', '/Users', user)).status).toBe(409);
    const page = await env.newPage();
    await signInWithToken(page, env.origin, env.bridge.token);
    await page.select('#f-outcome', 'failed');
    await Promise.all([page.waitForNavigation(), page.click('form.filters button')]);
    const rows = await page.$$eval('#activity ~ .table-wrap tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? '')),
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((cells) => Number(cells[4]) >= 400)).toBe(true);
    expect(rows[0]?.slice(1, 5)).toEqual(['auth.token', 'POST', 'Users', '409']);
    expect(rows[0]?.[5]).toContain('uniqueness');
    await screenshot(page, 'overview-failed-writes');
    await page.browserContext().close();
  });

  it('signs in through SAML Web SSO at the test IdP and lands in the console', async () => {
    const done = timed('SAML SSO sign-in');
    const page = await env.newPage();
    await page.goto(`${env.origin}/admin/audit`);
    await Promise.all([page.waitForNavigation(), page.click('a.button')]);
    expect(page.url().startsWith(`${env.idp.url}/sso`)).toBe(true);
    await page.$eval('#nameId', (input) => {
      (input as HTMLInputElement).value = '';
    });
    await page.type('#nameId', 'ada@example.test');
    await screenshot(page, 'test-idp');
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('button[type="submit"]')]);
    // The ACS page moves on to the console by itself (meta refresh).
    await page.waitForFunction(() => location.pathname === '/admin/audit', { timeout: 10_000 });
    await page.waitForSelector('main h1');
    expect(await headingOf(page)).toBe('Audit log');
    expect(await page.$eval('.who', (s) => s.textContent ?? '')).toContain('ada@example.test');
    // The sign-in itself is the newest audit record.
    const newest = await page.$eval('tbody tr', (tr) => tr.textContent ?? '');
    expect(newest).toContain('ada@example.test');
    expect(newest).toContain('POST /saml/acs');
    expect(newest).toContain('ok (200)');
    await screenshot(page, 'audit-after-sso');
    done();
    await page.browserContext().close();
  });

  it('refuses a SAML user whose groups do not earn the admin scope', async () => {
    const page = await env.newPage();
    await page.goto(`${env.origin}/admin`);
    await Promise.all([page.waitForNavigation(), page.click('a.button')]);
    await page.$eval('#groups', (input) => {
      (input as HTMLInputElement).value = '';
    });
    await page.type('#groups', READER_GROUP);
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    await page.waitForFunction(() => location.pathname === '/admin', { timeout: 10_000 });
    await page.waitForSelector('main h1');
    expect(await headingOf(page)).toBe('Refused');
    expect(await page.$eval('main', (m) => m.textContent ?? '')).toContain('admin scope');
    expect(ADMIN_GROUP).not.toBe(READER_GROUP);
    await page.browserContext().close();
  });
});

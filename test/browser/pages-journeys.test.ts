/**
 * The console's working pages in a real browser (Debian's chromium, headless), signed in with the
 * admin token: preview a PATCH from the mapping page, find a user by filter and open it, retry a
 * dead letter and see it delivered to a webhook receiver on loopback that fails first, then
 * accepts. Each journey prints its time and leaves screenshots in artifacts/screenshots/.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../integration/jobs/receiver.ts';
import {
  type ConsoleEnv,
  headingOf,
  screenshot,
  signInWithToken,
  skipWithoutChromium,
  startConsoleEnv,
} from './harness.ts';

const SUITE = 'admin console pages (chromium)';
const SECRET = 'pages-journeys-webhook-secret-01';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

describe.skipIf(skipWithoutChromium(SUITE))(SUITE, () => {
  let env: ConsoleEnv;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver(SECRET);
    env = await startConsoleEnv({
      env: {
        SCIM_BRIDGE_EVENTS_ENABLED: 'true',
        SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([{ name: 'hook', url: receiver.url, secret: SECRET }]),
        SCIM_BRIDGE_EVENTS_BACKOFF_BASE_MS: '50',
      },
    });
  });
  afterAll(async () => {
    await env?.stop();
    await receiver?.close();
  });

  function timed(name: string): () => void {
    const start = performance.now();
    return () => console.log(`journey "${name}": ${Math.round(performance.now() - start)} ms`);
  }

  async function signedIn(next: string): Promise<Page> {
    const page = await env.newPage();
    await signInWithToken(page, env.origin, env.bridge.token, next);
    return page;
  }

  const text = (page: Page, selector: string) => page.$eval(selector, (e) => e.textContent ?? '');

  it('previews a PATCH from the mapping page: the LDAP modify is shown, nothing is written', async () => {
    const done = timed('preview a PATCH');
    const alice = await env.bridge.request(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "alice"')}`,
    );
    const { id, displayName } = alice.body.Resources[0] as { id: string; displayName: string };
    const page = await signedIn('/admin/mappings');
    expect(await headingOf(page)).toBe('Mappings');
    await screenshot(page, 'mappings');
    await Promise.all([page.waitForNavigation(), page.click('a[href="/admin/mappings/Users"]')]);
    expect(await headingOf(page)).toBe('Mapping: User');
    await screenshot(page, 'mapping-users');

    await page.select('#preview-method', 'PATCH');
    await page.$eval('#preview-path', (input) => {
      (input as HTMLInputElement).value = '';
    });
    await page.type('#preview-path', `/Users/${id}`);
    await page.type(
      '#preview-body',
      JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'displayName', value: 'Alice Previewed' }],
      }),
    );
    await Promise.all([
      page.waitForNavigation(),
      page.click('form[action="/admin/mappings/Users/preview"] button'),
    ]);
    expect(await headingOf(page)).toBe('Preview: User');
    const ldif = await text(page, 'pre.ldif');
    expect(ldif).toContain('dn: uid=alice,ou=People,dc=example,dc=com');
    expect(ldif).toContain('replace: displayName\ndisplayName: Alice Previewed');
    expect(await text(page, '#preview-result')).toMatch(
      /PATCH \/Users\/.+: \d+ LDAP operation\(s\), SCIM 200/,
    );
    await screenshot(page, 'preview-patch');
    const after = await env.bridge.request('GET', `/Users/${id}`);
    expect(after.body.displayName).toBe(displayName);
    done();
    await page.browserContext().close();
  });

  it('picks a recorded PATCH on the preview page, loads it into the form and previews it', async () => {
    const done = timed('preview a recorded PATCH');
    const carol = await env.bridge.request(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "carol"')}`,
    );
    const id = (carol.body.Resources[0] as { id: string }).id;
    const patch = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'replace', path: 'title', value: 'Recorded In The Browser' },
        { op: 'replace', path: 'password', value: 'Browser-Secret-Pa55!' },
      ],
    };
    expect((await env.bridge.request('PATCH', `/Users/${id}`, patch)).status).toBe(200);
    const back = { ...patch, Operations: [{ op: 'replace', path: 'title', value: 'Back' }] };
    expect((await env.bridge.request('PATCH', `/Users/${id}`, back)).status).toBe(200);

    const page = await signedIn('/admin/mappings/Users');
    await Promise.all([
      page.waitForNavigation(),
      page.click('a[href="/admin/mappings/Users/preview#recorded"]'),
    ]);
    expect(await headingOf(page)).toBe('Preview: User');
    const rows = await page.$$eval('table.recorded tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    expect(rows[1]).toContain(`PATCH /Users/${id}`);
    await Promise.all([page.waitForNavigation(), page.click('table.recorded tbody tr:nth-child(2) a')]);
    const body = await page.$eval('#preview-body', (t) => (t as HTMLTextAreaElement).value);
    expect(body).toContain('Recorded In The Browser');
    expect(body).not.toContain('Browser-Secret-Pa55!');
    expect(await page.$eval('#preview-path', (i) => (i as HTMLInputElement).value)).toBe(`/Users/${id}`);
    await screenshot(page, 'preview-recorded');
    await Promise.all([
      page.waitForNavigation(),
      page.click('form[action="/admin/mappings/Users/preview"] button'),
    ]);
    expect(await text(page, 'pre.ldif')).toContain('replace: title\ntitle: Recorded In The Browser');
    expect(await page.content()).not.toContain('Browser-Secret-Pa55!');
    done();
    await page.browserContext().close();
  });

  it('finds a user by filter and opens it: entry, memberships, events', async () => {
    const done = timed('find a user by filter and open it');
    const page = await signedIn('/admin/resources/Users');
    await page.type('#filter', 'userName eq "bob"');
    await Promise.all([page.waitForNavigation(), page.click('form[role="search"] button')]);
    const links = await page.$$eval('main table a', (as) => as.map((a) => a.textContent));
    expect(links).toEqual(['bob']);
    await screenshot(page, 'resources-search');
    await Promise.all([page.waitForNavigation(), page.click('main table a')]);
    expect(await headingOf(page)).toBe('User: bob');
    expect(await text(page, '.dn')).toBe('dn: uid=bob,ou=People,dc=example,dc=com');
    const groups = await page.$$eval('#groups-list + ul a', (as) => as.map((a) => a.textContent).sort());
    expect(groups).toEqual(['all-staff', 'engineering']);
    const resource = JSON.parse(await text(page, 'pre.json')) as { userName: string };
    expect(resource.userName).toBe('bob');
    await screenshot(page, 'resource-user');
    // On a phone the entry and the resource stack, and wide tables scroll inside their box.
    await page.setViewport({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'resource-user-phone');
    done();
    await page.browserContext().close();
  });

  it('retries a dead letter and sees it delivered', async () => {
    const done = timed('retry a dead letter and see it delivered');
    receiver.mode = 400;
    const created = await env.bridge.request('POST', '/Users', { schemas: [USER], userName: 'journey-ivy' });
    const id = created.body.id as string;
    await receiver.waitFor(
      () => receiver.requests.some((d) => d.event?.resourceId === id),
      10_000,
      'the 400',
    );
    const page = await signedIn('/admin/deliveries');
    expect(await headingOf(page)).toBe('Deliveries');
    for (let i = 0; i < 50 && !(await page.$(`a[href="/admin/resources/User/${id}"]`)); i++) {
      await new Promise((r) => setTimeout(r, 100));
      await page.reload();
    }
    expect(await text(page, '#dead-letters')).toBe('Dead letters (1)');
    await screenshot(page, 'deliveries-dead-letter');

    receiver.mode = 200;
    await Promise.all([page.waitForNavigation(), page.click('table.dead-letters button')]);
    expect(new URL(page.url()).pathname).toBe('/admin/deliveries/hook');
    expect(await text(page, '.notice')).toBe('1 job(s) retried: queued again.');
    await receiver.waitFor(
      () => receiver.accepted().some((d) => d.event?.resourceId === id),
      10_000,
      'the retried delivery',
    );
    await page.goto(`${env.origin}/admin/deliveries/hook`);
    expect(await text(page, '#dead-letters')).toBe('Dead letters (0)');
    await screenshot(page, 'deliveries-after-retry');
    done();
    await page.browserContext().close();
  });
});

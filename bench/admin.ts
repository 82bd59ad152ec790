/**
 * `npm run bench -- --admin [--users N]`: the admin console's overview with N users in the
 * directory (default 100,000, bulk-loaded with slapadd like --scale) and a full activity table.
 * Signs in with the token in Debian's chromium (puppeteer-core), loads the overview cold (nothing
 * cached) and warm, and prints the bytes transferred (HTML, CSS, JS) and first contentful paint /
 * DOMContentLoaded from the Performance API; also the server's time for the overview's HTML.
 * Prints figures; asserts nothing. Loopback only; every loop is bounded by a count.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Page } from 'puppeteer-core';
import { startBridgeProcess } from './bridge-process.ts';
import { argValue, userLdif, writeLdif } from './measure.ts';

const CHROMIUM = '/usr/bin/chromium';
/** SCIM writes before the measurement: more than the overview's table shows. */
const WRITES = 60;
const WARM_LOADS = 5;
const SERVER_LOADS = 20;

function* usersLdif(users: number): Generator<string> {
  for (let i = 0; i < users; i++) {
    const uid = `user${String(i).padStart(6, '0')}`;
    yield userLdif(uid, { cn: `Person ${i}`, sn: `Number${i}`, displayName: `Person ${i}` });
  }
}

interface Load {
  html: number;
  css: number;
  js: number;
  fcpMs: number | undefined;
  domContentLoadedMs: number;
}

/** One navigation to the overview, read from the Performance API. */
async function loadOverview(page: Page, url: string): Promise<Load> {
  await page.goto(url, { waitUntil: 'load' });
  return page.evaluate(async () => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    const bytes = (kind: string) =>
      resources.filter((r) => r.initiatorType === kind).reduce((sum, r) => sum + r.transferSize, 0);
    // The paint entry can come after the load event: wait for it, a bounded time.
    const fcp = await new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 3000);
      new PerformanceObserver((list) => {
        const entry = list.getEntriesByName('first-contentful-paint')[0];
        if (entry) {
          clearTimeout(timer);
          resolve(entry.startTime);
        }
      }).observe({ type: 'paint', buffered: true });
    });
    return {
      html: nav.transferSize,
      css: bytes('link'),
      js: bytes('script'),
      fcpMs: fcp,
      domContentLoadedMs: nav.domContentLoadedEventEnd,
    };
  });
}

const ms = (value: number | undefined) => (value === undefined ? 'n/a' : `${value.toFixed(1)} ms`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

function printLoad(label: string, load: Load): void {
  console.log(
    `${label}: HTML ${load.html} B, CSS ${load.css} B, JS ${load.js} B (total ${load.html + load.css + load.js} B); ` +
      `first contentful paint ${ms(load.fcpMs)}, DOMContentLoaded ${ms(load.domContentLoadedMs)}`,
  );
}

async function provision(baseUrl: string, token: string): Promise<void> {
  for (let i = 0; i < WRITES; i++) {
    // Every third one a conflict (an existing userName), so the table shows refusals too.
    const userName = i % 3 === 0 ? 'user000001' : `admin-bench-${i}`;
    await fetch(`${baseUrl}/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName }),
    });
  }
}

async function serverTimes(origin: string, cookie: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < SERVER_LOADS; i++) {
    const started = performance.now();
    const response = await fetch(`${origin}/admin`, { headers: { Cookie: cookie } });
    await response.text();
    times.push(performance.now() - started);
  }
  return times;
}

export async function runAdmin(): Promise<void> {
  const users = argValue('--users', 100_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-admin-'));
  const ldif = path.join(dir, 'users.ldif');
  await writeLdif(ldif, usersLdif(users));
  const token = randomBytes(18).toString('base64url');
  const bridge = await startBridgeProcess(token, [ldif]);
  const origin = new URL(bridge.baseUrl).origin;
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu'],
  });
  try {
    console.log(`admin console overview, ${users} users in the directory, ${WRITES} SCIM writes recorded`);
    await provision(bridge.baseUrl, token);
    const signIn = await browser.newPage();
    await signIn.goto(`${origin}/admin/sign-in`);
    await signIn.type('#token', token);
    await Promise.all([signIn.waitForNavigation(), signIn.click('form button[type="submit"]')]);
    const session = (await signIn.cookies()).find((c) => c.name === '__Host-scim_bridge_admin');
    if (!session) throw new Error('the sign-in did not open a session');
    // A fresh context with only the session cookie: the first load fetches everything.
    const context = await browser.createBrowserContext();
    await context.setCookie({ ...session });
    const inTab = async () => {
      const tab = await context.newPage();
      await tab.setViewport({ width: 1280, height: 900 });
      // Paint timing is recorded for visible documents only.
      await tab.bringToFront();
      const load = await loadOverview(tab, `${origin}/admin`);
      await tab.close();
      return load;
    };
    printLoad('cold (nothing cached)', await inTab());
    const warm: Load[] = [];
    for (let i = 0; i < WARM_LOADS; i++) warm.push(await inTab());
    printLoad(`warm (stylesheet cached), last of ${WARM_LOADS}`, warm.at(-1) as Load);
    console.log(
      `warm medians: first contentful paint ${ms(median(warm.map((w) => w.fcpMs ?? Number.NaN)))}, ` +
        `DOMContentLoaded ${ms(median(warm.map((w) => w.domContentLoadedMs)))}`,
    );
    const times = await serverTimes(origin, `${session.name}=${session.value}`);
    console.log(
      `server: GET /admin (HTML) over ${SERVER_LOADS} requests: median ${ms(median(times))}, max ${ms(Math.max(...times))}`,
    );
  } finally {
    await browser.close();
    await bridge.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

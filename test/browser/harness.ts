/**
 * Browser tests of the admin console: a whole bridge (startTestBridge: its own slapd and Redis)
 * with the console on and the local test IdP (src/localdev/idp-server.ts) trusted, driven by
 * Debian's chromium through puppeteer-core (no browser download). Screenshots go to
 * artifacts/screenshots/NAME.png, which CI keeps.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { type IdpServer, startIdpServer } from '../../src/localdev/idp-server.ts';
import { freeLoopbackPort } from '../../src/localdev/net.ts';
import { startTestBridge, type TestBridge, type TestBridgeOptions } from '../harness/bridge.ts';
import { skipWithout } from '../harness/prerequisites.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../artifacts/screenshots');
/** The trusted IdP's name, as the sign-in page offers it. */
export const IDP_NAME = 'local-idp';
/** The IdP group that earns the admin scope (and one that earns less). */
export const ADMIN_GROUP = 'scim-admins';
export const READER_GROUP = 'scim-readers';

/** `describe.skipIf` for a browser suite: CI fails instead of skipping (prerequisites.ts). */
export function skipWithoutChromium(suite: string): boolean {
  const missing = [
    ...(existsSync(CHROMIUM) ? [] : ['chromium (Debian package)']),
    ...['openssl', 'xmlsec1'].filter((tool) => !onPath(tool)).map((tool) => `${tool} (Debian package)`),
  ];
  return skipWithout(suite, missing);
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => existsSync(path.join(dir, tool)));
}

export interface ConsoleEnv {
  readonly bridge: TestBridge;
  readonly idp: IdpServer;
  readonly browser: Browser;
  /** http://127.0.0.1:PORT (the console is under /admin). */
  readonly origin: string;
  /** A fresh browser context (its own cookies) and page. */
  newPage(): Promise<Page>;
  stop(): Promise<void>;
}

/** A bridge with the console and the test IdP trusted, and a headless chromium. */
export async function startConsoleEnv(options: TestBridgeOptions = {}): Promise<ConsoleEnv> {
  const dir = mkdtempSync(path.join(tmpdir(), 'admin-idp-'));
  const idp = await startIdpServer({ dir });
  const port = await freeLoopbackPort();
  const origin = `http://127.0.0.1:${port}`;
  const bridge = await startTestBridge({
    ...options,
    env: {
      SCIM_BRIDGE_SERVER_HOST: '127.0.0.1',
      SCIM_BRIDGE_SERVER_PORT: String(port),
      SCIM_BRIDGE_AUTH_SAML_ENTITY_ID: `${origin}/saml`,
      SCIM_BRIDGE_AUTH_SAML_TOKEN_ENDPOINT_URL: `${origin}/oauth/token`,
      SCIM_BRIDGE_AUTH_SAML_TRUSTED_IDPS: JSON.stringify([
        {
          name: IDP_NAME,
          metadataFile: idp.files.metadataFile,
          scopeRules: [
            { attribute: 'groups', equals: ADMIN_GROUP, scopes: ['admin'] },
            { attribute: 'groups', equals: READER_GROUP, scopes: ['users:read'] },
          ],
        },
      ]),
      ...options.env,
    },
  });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu'],
  });
  return {
    bridge,
    idp,
    browser,
    origin,
    async newPage() {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      return page;
    },
    async stop() {
      await browser.close();
      await bridge.stop();
      await idp.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes artifacts/screenshots/NAME.png (the whole page). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file as `${string}.png`, fullPage: true });
  return file;
}

/** Signs in on the console's sign-in page with a bearer token; the page ends where it was sent. */
export async function signInWithToken(
  page: Page,
  origin: string,
  token: string,
  next = '/admin',
): Promise<void> {
  await page.goto(`${origin}/admin/sign-in?next=${encodeURIComponent(next)}`);
  await page.type('#token', token);
  await Promise.all([
    page.waitForNavigation(),
    page.click('form[action="/admin/sign-in"] button[type="submit"]'),
  ]);
}

/** The main heading of the page shown. */
export function headingOf(page: Page): Promise<string> {
  return page.$eval('main h1', (h) => h.textContent ?? '');
}

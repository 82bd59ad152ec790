/**
 * Every console page in a real browser (Debian's chromium, headless) at 1280 px and at a phone's
 * 390 px: no page-wide horizontal scroll on the phone (wide tables and blocks scroll inside their
 * box), and the accessibility basics on each: a lang, one h1, a label for every control, a
 * :focus-visible outline, and Tab reaching the page's main actions. Screenshots of each page at
 * both widths go to artifacts/screenshots/ (layout-NAME.png, layout-NAME-phone.png).
 */
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../integration/jobs/receiver.ts';
import {
  type ConsoleEnv,
  screenshot,
  signInWithToken,
  skipWithoutChromium,
  startConsoleEnv,
} from './harness.ts';

const SUITE = 'admin console layout and accessibility (chromium)';
const PHONE = { width: 390, height: 844, isMobile: true };
const DESKTOP = { width: 1280, height: 900 };
const SECRET = 'layout-a11y-webhook-secret-0001';

/** The page's accessibility facts, gathered in the browser. */
interface PageFacts {
  lang: string;
  h1s: number;
  unlabelled: string[];
  /** Tab stops whose focus shows no solid outline (as `key: style width`). */
  noOutline: string[];
  /** The controls Tab reaches, in order (tag#id or the text of links and buttons). */
  tabbable: string[];
  /** Buttons and inputs of the page's forms inside <main>. */
  actions: string[];
}

/**
 * How far the page is wider than the phone's screen (> 0: the whole page scrolls sideways).
 * Against the screen's width, not window.innerWidth: an emulated phone widens its layout
 * viewport to fit wide content (shrink to fit), and innerWidth grows with it.
 */
function pageOverflow(page: Page): Promise<number> {
  return page.evaluate((width) => document.documentElement.scrollWidth - width, PHONE.width);
}

/**
 * Text whose contrast with the background behind it is under WCAG 2.x AA's 4.5:1, as
 * "ratio selector: text". The background is the first opaque one up the tree (else white).
 */
function lowContrast(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rgb = (color: string) => {
      const parts =
        /rgba?\(([^)]+)\)/
          .exec(color)?.[1]
          ?.split(/[ ,/]+/)
          .filter(Boolean)
          .map(Number) ?? [];
      return { r: parts[0] ?? 0, g: parts[1] ?? 0, b: parts[2] ?? 0, a: parts[3] ?? 1 };
    };
    const luminance = ({ r, g, b }: { r: number; g: number; b: number }) => {
      const lin = (v: number) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
      return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    };
    const background = (e: Element | null): { r: number; g: number; b: number } => {
      for (let at = e; at; at = at.parentElement) {
        const bg = rgb(getComputedStyle(at).backgroundColor);
        if (bg.a > 0.5) return bg;
      }
      return { r: 255, g: 255, b: 255 };
    };
    const low: string[] = [];
    for (const e of document.body.querySelectorAll('*')) {
      const text = [...e.childNodes]
        .filter((n) => n.nodeType === Node.TEXT_NODE)
        .map((n) => n.textContent ?? '')
        .join('')
        .trim();
      const box = e.getBoundingClientRect();
      if (text === '' || box.width === 0 || box.right < 0) continue;
      const fg = luminance(rgb(getComputedStyle(e).color));
      const bg = luminance(background(e));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      if (ratio < 4.5)
        low.push(`${ratio.toFixed(2)} ${e.tagName.toLowerCase()}.${e.className}: ${text.slice(0, 40)}`);
    }
    return low;
  });
}

async function factsOf(page: Page): Promise<PageFacts> {
  const facts = await page.evaluate(() => {
    const controls = [...document.querySelectorAll('input:not([type=hidden]), select, textarea')];
    const unlabelled = controls
      .filter((c) => {
        const byFor = c.id !== '' && document.querySelector(`label[for="${c.id}"]`) !== null;
        return !byFor && c.closest('label') === null && !c.getAttribute('aria-label');
      })
      .map((c) => c.outerHTML.slice(0, 120));
    return {
      lang: document.documentElement.lang,
      h1s: document.querySelectorAll('h1').length,
      unlabelled,
    };
  });
  // Tab through the page from the top; every stop's element, until it comes round or 150 stops.
  const tabbable: string[] = [];
  const noOutline: string[] = [];
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  for (let i = 0; i < 150; i++) {
    await page.keyboard.press('Tab');
    const stop = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return undefined;
      const style = getComputedStyle(e);
      return {
        key: `${e.tagName}|${e.id}|${e.getAttribute('href') ?? ''}|${e.getAttribute('name') ?? ''}|${(e.textContent ?? '').trim().slice(0, 40)}`,
        outline: `${style.outlineStyle} ${style.outlineWidth}`,
      };
    });
    if (!stop || tabbable.includes(stop.key)) break;
    tabbable.push(stop.key);
    if (!/^solid [1-9]/.test(stop.outline)) noOutline.push(`${stop.key}: ${stop.outline}`);
  }
  const actions = await page.$$eval(
    'main form button, main form input:not([type=hidden]), main form select',
    (es) =>
      es.map(
        (e) =>
          `${e.tagName}|${e.id}|${e.getAttribute('href') ?? ''}|${e.getAttribute('name') ?? ''}|${(e.textContent ?? '').trim().slice(0, 40)}`,
      ),
  );
  return { ...facts, noOutline, tabbable, actions };
}

describe.skipIf(skipWithoutChromium(SUITE))(SUITE, () => {
  let env: ConsoleEnv;
  let receiver: Receiver;
  let page: Page;
  /** Paths to check: every nav page, then the pages with wide content behind them. */
  const pages: { name: string; path: string }[] = [];

  beforeAll(async () => {
    // A delivery service, so the deliveries pages show their tables.
    receiver = await startReceiver(SECRET);
    env = await startConsoleEnv({
      env: {
        SCIM_BRIDGE_EVENTS_ENABLED: 'true',
        SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([{ name: 'hook', url: receiver.url, secret: SECRET }]),
      },
    });
    page = await env.newPage();
    await signInWithToken(page, env.origin, env.bridge.token);
    const nav = await page.$$eval('nav[aria-label="Console"] a', (as) =>
      as.map((a) => a.getAttribute('href') ?? ''),
    );
    for (const path of nav)
      pages.push({ name: path.replace(/^\/admin\/?/, '').replace(/\//g, '-') || 'overview', path });
    const alice = await env.bridge.request(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "alice"')}`,
    );
    const id = (alice.body.Resources[0] as { id: string }).id;
    const patch = JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'displayName', value: 'A much longer display name than usual' }],
    });
    pages.push(
      { name: 'mapping-users', path: '/admin/mappings/Users' },
      {
        name: 'preview-result',
        path: `/admin/mappings/Users/preview?${new URLSearchParams({ method: 'PATCH', path: `/Users/${id}`, body: patch })}`,
      },
      {
        name: 'entry',
        path: `/admin/mappings/Users/entry?ref=${encodeURIComponent('uid=alice,ou=People,dc=example,dc=com')}`,
      },
      { name: 'resource-user', path: `/admin/resources/User/${id}` },
      { name: 'resources-users', path: '/admin/resources/Users' },
      { name: 'deliveries-hook', path: '/admin/deliveries/hook' },
    );
  });
  afterAll(async () => {
    await page?.browserContext().close();
    await env?.stop();
    await receiver?.close();
  });

  it('finds the nav pages to check', () => {
    expect(pages.map((p) => p.path)).toEqual(
      expect.arrayContaining(['/admin', '/admin/mappings', '/admin/audit']),
    );
  });

  it('no page scrolls sideways at 390 px; each is captured at 1280 px and 390 px', async () => {
    const start = performance.now();
    const overflowing: string[] = [];
    for (const { name, path } of pages) {
      await page.setViewport(DESKTOP);
      await page.goto(`${env.origin}${path}`);
      expect(new URL(page.url()).pathname, path).toBe(path.split('?')[0]);
      await screenshot(page, `layout-${name}`);
      await page.setViewport(PHONE);
      await page.goto(`${env.origin}${path}`);
      const overflow = await pageOverflow(page);
      if (overflow > 0) overflowing.push(`${path}: ${overflow} px too wide`);
      await screenshot(page, `layout-${name}-phone`);
    }
    expect(overflowing).toEqual([]);
    console.log(
      `layout check of ${pages.length} pages at two widths: ${Math.round(performance.now() - start)} ms`,
    );
  });

  it('each page has a lang, one h1, contrast, labelled controls, a visible focus, and Tab reaches its actions', async () => {
    const problems: string[] = [];
    // At both widths: on a phone, boxes that scroll sideways become Tab stops of their own.
    for (const [width, viewport] of [
      ['1280', DESKTOP],
      ['390', PHONE],
    ] as const) {
      await page.setViewport(viewport);
      for (const { path } of pages) {
        await page.goto(`${env.origin}${path}`);
        const at = `${path} (${width} px)`;
        const facts = await factsOf(page);
        if (facts.lang === '') problems.push(`${at}: no lang`);
        if (facts.h1s !== 1) problems.push(`${at}: ${facts.h1s} h1`);
        for (const low of await lowContrast(page)) problems.push(`${at}: contrast ${low}`);
        for (const control of facts.unlabelled) problems.push(`${at}: no label for ${control}`);
        for (const stop of facts.noOutline) problems.push(`${at}: no visible focus on ${stop}`);
        if (!facts.tabbable[0]?.includes('Skip to content'))
          problems.push(`${at}: the first Tab is not the skip link`);
        for (const action of facts.actions) {
          if (!facts.tabbable.includes(action)) problems.push(`${at}: Tab never reaches ${action}`);
        }
        if (!facts.tabbable.some((stop) => stop.includes('Sign out')))
          problems.push(`${at}: Tab never reaches Sign out`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the sign-in page and an error page pass the same checks, at both widths', async () => {
    const anonymous = await env.newPage();
    const problems: string[] = [];
    const targets: [Page, string][] = [
      [anonymous, '/admin/sign-in'],
      [page, '/admin/no-such-page'],
    ];
    for (const [tab, path] of targets) {
      for (const viewport of [DESKTOP, PHONE]) {
        await tab.setViewport(viewport);
        await tab.goto(`${env.origin}${path}`);
        const at = `${path} (${viewport.width} px)`;
        if (viewport === PHONE) {
          const overflow = await pageOverflow(tab);
          if (overflow > 0) problems.push(`${at}: ${overflow} px too wide`);
        }
        const facts = await factsOf(tab);
        if (facts.lang === '' || facts.h1s !== 1)
          problems.push(`${at}: lang "${facts.lang}", ${facts.h1s} h1`);
        for (const low of await lowContrast(tab)) problems.push(`${at}: contrast ${low}`);
        for (const control of facts.unlabelled) problems.push(`${at}: no label for ${control}`);
        for (const stop of facts.noOutline) problems.push(`${at}: no visible focus on ${stop}`);
        for (const action of facts.actions) {
          if (!facts.tabbable.includes(action)) problems.push(`${at}: Tab never reaches ${action}`);
        }
      }
    }
    await screenshot(anonymous, 'layout-sign-in-phone');
    await anonymous.browserContext().close();
    expect(problems).toEqual([]);
  });

  it('the checks can fail: a too-wide block, pale text, a hidden focus, a control without a label', async () => {
    await page.setViewport(PHONE);
    await page.goto(`${env.origin}/admin/audit`);
    await page.$eval('main', (main) => {
      const wide = document.createElement('div');
      wide.style.width = '900px';
      wide.textContent = 'wide';
      main.append(wide);
    });
    expect(await pageOverflow(page)).toBeGreaterThan(0);
    await page.$eval('main h1', (h) => {
      (h as HTMLElement).style.color = '#aaaaaa';
    });
    expect(await lowContrast(page)).toEqual([expect.stringMatching(/^2\.\d+ h1\.: Audit log$/)]);
    await page.setViewport(DESKTOP);
    await page.goto(`${env.origin}/admin/resources/Users`);
    await page.$eval('label[for="filter"]', (label) => label.remove());
    await page.$eval('#filter', (input) =>
      (input as HTMLElement).style.setProperty('outline', 'none', 'important'),
    );
    const facts = await factsOf(page);
    expect(facts.unlabelled.length).toBe(1);
    expect(facts.unlabelled[0]).toContain('id="filter"');
    expect(facts.noOutline).toEqual([expect.stringMatching(/^INPUT\|filter\|\|filter\|: none/)]);
  });
});

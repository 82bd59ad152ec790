/**
 * Hostile input, class "readiness leak" (issue 15, Low): the unauthenticated /ready says WHAT is
 * down, never WHERE it is: no URL, host, port or bind DN of the directory or of Redis in its body,
 * up or down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';

let t: TestBridge;

beforeAll(async () => {
  t = await startTestBridge();
});
afterAll(async () => {
  await t?.stop();
});

async function ready(): Promise<{ status: number; text: string }> {
  const response = await fetch(`${new URL(t.baseUrl).origin}/ready`);
  return { status: response.status, text: await response.text() };
}

/** Whatever locates a dependency: its URL, its host:port, its port, its bind DN. */
function locators(): string[] {
  const slapd = t.bridge.local?.slapd;
  const redis = t.bridge.local?.redis;
  if (!slapd || !redis) throw new Error('the test bridge should run its own slapd and redis');
  const found: string[] = [slapd.url, redis.url, slapd.serviceDn, slapd.rootDn, 'ldap://', 'redis://'];
  for (const url of [slapd.url, redis.url]) {
    const { host, port } = new URL(url);
    found.push(host, `:${port}`);
  }
  return found;
}

function expectNoLocator(text: string): void {
  for (const locator of locators()) expect(text, `/ready shows ${locator}`).not.toContain(locator);
}

describe('hostile input: /ready tells what is down, not where', () => {
  it('up: 200 and no locator', async () => {
    const r = await ready();
    expect(r.status).toBe(200);
    expectNoLocator(r.text);
  });

  it('Redis down: degraded (reads go on), naming redis, without its URL or port', async () => {
    const redis = t.bridge.local?.redis;
    if (!redis) throw new Error('the test bridge should run its own redis');
    const shown = locators();
    await redis.kill();
    try {
      const r = await ready();
      expect(r.status).toBe(200);
      expect(r.text).toMatch(/degraded/);
      expect(r.text).toMatch(/redis/i);
      for (const locator of shown)
        expect(r.text, `/ready shows ${locator}: ${r.text}`).not.toContain(locator);
    } finally {
      await redis.restart();
      // Bounded: the bridge's client reconnects on its own.
      for (let i = 0; i < 50 && (await ready()).status !== 200; i++)
        await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('the directory down: 503 naming it, without its URL, port or bind DN', async () => {
    const slapd = t.bridge.local?.slapd;
    if (!slapd) throw new Error('the test bridge should run its own slapd');
    const shown = locators();
    await slapd.stop();
    const r = await ready();
    expect(r.status).toBe(503);
    expect(r.text).toMatch(/ldap|directory/i);
    for (const locator of shown) expect(r.text, `/ready shows ${locator}: ${r.text}`).not.toContain(locator);
  });
});

/**
 * Hostile input, class "Host header" (issue 15, Low): without server.publicBaseUrl the bridge
 * derives Location and meta.location (RFC 7644 §3.1) from the request, so a malformed Host must be
 * refused (RFC 9112 §3.2: 400 for an invalid Host) or never reach a URL the bridge writes. A
 * Host with a path, query, user info or space is not a host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { idOf, raw, USER } from './helpers.ts';

let t: TestBridge;
/** A bridge behind a trusted proxy on loopback (server.trustProxy), where the tests' requests come from. */
let proxied: TestBridge;
const logLines: string[] = [];

beforeAll(async () => {
  t = await startTestBridge();
  proxied = await startTestBridge({
    env: { SCIM_BRIDGE_SERVER_TRUST_PROXY: '["127.0.0.0/8", "::1"]', SCIM_BRIDGE_LOG_LEVEL: 'info' },
    logLines,
  });
});
afterAll(async () => {
  await t?.stop();
  await proxied?.stop();
});

const FORWARDED = {
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Host': 'scim.example.com',
  'X-Forwarded-For': '203.0.113.7, 127.0.0.1',
};

describe('server.trustProxy: X-Forwarded-* honoured from the listed proxies only', () => {
  it('without trusted proxies, forwarded headers are ignored: the location uses Host', async () => {
    const id = await idOf(t, 'alice');
    const r = await raw(t, t.baseUrl, { method: 'GET', path: `/Users/${id}`, headers: FORWARDED });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).meta.location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/scim\/v2\/Users\//);
  });

  it('from a trusted proxy, the forwarded scheme and host make the location', async () => {
    const id = await idOf(proxied, 'alice');
    const r = await raw(proxied, proxied.baseUrl, {
      method: 'GET',
      path: `/Users/${id}`,
      headers: FORWARDED,
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).meta.location).toBe(`https://scim.example.com/scim/v2/Users/${id}`);
  });

  it('the access log names the first untrusted hop of X-Forwarded-For as the client address', async () => {
    logLines.length = 0;
    const r = await raw(proxied, proxied.baseUrl, {
      method: 'GET',
      path: '/Users?count=1',
      headers: { ...FORWARDED, 'X-Request-Id': 'forwarded-for-1' },
    });
    expect(r.status).toBe(200);
    const line = logLines.map((l) => JSON.parse(l)).find((l) => l.requestId === 'forwarded-for-1');
    expect(line?.address).toBe('203.0.113.7');
  });

  it('a hostile forwarded host from a trusted proxy is refused like a hostile Host', async () => {
    const r = await raw(proxied, proxied.baseUrl, {
      method: 'GET',
      path: '/Users?count=1',
      headers: { 'X-Forwarded-Host': 'evil.example/x?' },
    });
    expect(r.status).toBe(400);
  });
});

const HOSTILE_HOSTS = [
  'evil.example:1/x?',
  'evil.example/path#',
  'user@evil.example',
  'evil.example:99999',
  'evil.example:1?q=',
];

describe('hostile input: the Host header', () => {
  it('an ordinary Host gives locations on that host (the derived base URL still works)', async () => {
    const id = await idOf(t, 'alice');
    const r = await raw(t, t.baseUrl, {
      method: 'GET',
      path: `/Users/${id}`,
      headers: { Host: 'scim.example:8443' },
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).meta.location).toMatch(/^http:\/\/scim\.example:8443\/scim\/v2\/Users\//);
  });

  for (const host of HOSTILE_HOSTS) {
    it(`Host: ${host} is refused with 400 or kept out of meta.location and Location`, async () => {
      const id = await idOf(t, 'alice');
      const read = await raw(t, t.baseUrl, { method: 'GET', path: `/Users/${id}`, headers: { Host: host } });
      const created = await raw(t, t.baseUrl, {
        method: 'POST',
        path: '/Users',
        headers: { Host: host },
        body: JSON.stringify({ schemas: [USER], userName: `host.${HOSTILE_HOSTS.indexOf(host)}` }),
      });
      for (const r of [read, created]) {
        if (r.status === 400) {
          expect(JSON.parse(r.text).schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
          expect(r.text).not.toContain('evil.example');
          continue;
        }
        expect(r.status, r.text.slice(0, 300)).toBeLessThan(300);
        const location = (JSON.parse(r.text) as { meta?: { location?: string } }).meta?.location;
        expect(r.text, `meta.location ${location}`).not.toContain('evil.example');
        expect(String(r.headers.location ?? ''), 'Location').not.toContain('evil.example');
      }
    });
  }
});

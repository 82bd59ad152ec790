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

beforeAll(async () => {
  t = await startTestBridge();
});
afterAll(async () => {
  await t?.stop();
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
    // issue 15: host header — fails today: 200/201 with meta.location and Location on the hostile
    // host, e.g. http://evil.example:1/x?/scim/v2/Users/<id>
    it.fails(`Host: ${host} is refused with 400 or kept out of meta.location and Location`, async () => {
      const id = await idOf(t, 'alice');
      const read = await raw(t, t.baseUrl, { method: 'GET', path: `/Users/${id}`, headers: { Host: host } });
      const created = await raw(t, t.baseUrl, {
        method: 'POST',
        path: '/Users',
        headers: { Host: host },
        body: JSON.stringify({ schemas: [USER], userName: `host.${HOSTILE_HOSTS.indexOf(host)}` }),
      });
      for (const r of [read, created]) {
        if (r.status === 400) continue;
        expect(r.status, r.text.slice(0, 300)).toBeLessThan(300);
        const location = (JSON.parse(r.text) as { meta?: { location?: string } }).meta?.location;
        expect(r.text, `meta.location ${location}`).not.toContain('evil.example');
        expect(String(r.headers.location ?? ''), 'Location').not.toContain('evil.example');
      }
    });
  }
});

/**
 * The console when Redis is gone (sessions live there): a 503 page that says so, with the
 * console's headers, never a 500; and a bridge with admin.enabled false serves no console.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { ConsoleClient } from './helpers.ts';

describe('Redis down', () => {
  let t: TestBridge;
  let signedIn: ConsoleClient;

  beforeAll(async () => {
    t = await startTestBridge();
    signedIn = new ConsoleClient(t.bridge.url);
    expect((await signedIn.signIn(t.token)).status).toBe(303);
    await t.bridge.local?.redis?.stop();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('a page with a session cookie answers 503 saying the session store is down', async () => {
    const answer = await signedIn.get('/admin');
    expect(answer.status).toBe(503);
    expect(answer.text).toContain('session store (Redis) does not answer');
    expect(answer.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
  });

  it('a token sign-in answers 503 and sets no session', async () => {
    const client = new ConsoleClient(t.bridge.url);
    const answer = await client.signIn(t.token);
    expect(answer.status).toBe(503);
    expect(client.sessionId).toBe('');
  });
});

describe('admin.enabled: false', () => {
  let t: TestBridge;
  beforeAll(async () => {
    t = await startTestBridge({ env: { SCIM_BRIDGE_ADMIN_ENABLED: 'false' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it.each(['/admin', '/admin/sign-in', '/admin/assets/admin.css'])('%s is not served', async (path) => {
    const answer = await new ConsoleClient(t.bridge.url).get(path);
    expect(answer.status).toBe(404);
    expect(answer.text).not.toContain('<form');
  });
});

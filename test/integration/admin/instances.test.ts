/**
 * Two bridge instances sharing one Redis, as behind a load balancer without session affinity: a
 * console session opened on one is signed in on the other, its CSRF token is accepted there, the
 * audit log is one, and sign-out on either ends the session on both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { ConsoleClient, csrfOf } from './helpers.ts';

let a: TestBridge;
let b: TestBridge;

beforeAll(async () => {
  a = await startTestBridge();
  const redisUrl = a.bridge.local?.redis?.url;
  if (!redisUrl) throw new Error('the first bridge should run its own Redis');
  b = await startTestBridge({ env: { SCIM_BRIDGE_REDIS_URL: redisUrl } });
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

/** The same browser (cookies) talking to another instance. */
function onOther(client: ConsoleClient, other: TestBridge): ConsoleClient {
  const moved = new ConsoleClient(other.bridge.url);
  for (const [name, value] of client.cookies) moved.cookies.set(name, value);
  return moved;
}

describe('one session across instances', () => {
  it('signed in on A, the console works on B, with the same CSRF token; sign-out on B ends it on A', async () => {
    const onA = new ConsoleClient(a.bridge.url);
    expect((await onA.signIn(a.token)).status).toBe(303);
    const onB = onOther(onA, b);
    const pageOnB = await onB.get('/admin/audit');
    expect(pageOnB.status).toBe(200);
    // The sign-in on A is in the audit log B shows.
    expect(pageOnB.text).toContain('POST /admin/sign-in');
    const csrfOnA = csrfOf((await onA.get('/admin')).text);
    expect(csrfOf(pageOnB.text)).toBe(csrfOnA);
    const out = await onB.post('/admin/sign-out', { _csrf: csrfOnA });
    expect(out.status).toBe(303);
    expect((await onA.get('/admin')).status).toBe(303);
  });
});

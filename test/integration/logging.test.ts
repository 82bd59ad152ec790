/**
 * Operators' view: one log line per request with method, route, status, latency and request id;
 * bearer tokens and passwords never appear in the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../harness/bridge.ts';

let t: TestBridge;
const lines: string[] = [];

beforeAll(async () => {
  t = await startTestBridge({ logLines: lines });
});
afterAll(async () => {
  await t?.stop();
});

describe('request log', () => {
  it('writes one line per request with the fields an operator needs', async () => {
    const before = lines.length;
    const r = await t.request('GET', '/Users?count=1', undefined, { 'X-Request-Id': 'log-test-1' });
    expect(r.status).toBe(200);
    const requestLines = lines
      .slice(before)
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg === 'request');
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      method: 'GET',
      route: 'GET /Users',
      status: 200,
      requestId: 'log-test-1',
      client: 'auth.token',
    });
    expect(requestLines[0].latencyMs).toEqual(expect.any(Number));
  });

  it('never logs the bearer token or a password, even on failures', async () => {
    const password = 'Sup3r-Secret-Passw0rd!';
    await t.request('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'logged',
      password,
    });
    await t.request('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'logged',
      password,
    });
    await t.request('GET', '/Users', undefined, { Authorization: `Bearer ${t.token}x` });
    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThan(3);
    expect(all).not.toContain(t.token);
    expect(all).not.toContain(password);
  });
});

/**
 * Hostile input, class "log bounds" (issue 15, Low): what a client sends must not grow the log
 * without bound or land in it verbatim. An error detail echoes a bounded excerpt (to the client and
 * to the log), user input that may be a secret (a PATCH path) is not copied into the log, and a
 * client that gives up halfway through its body is logged as a client abort — not as a 500 with a
 * stack, which would page an operator for the client's doing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { expectScimError, GROUP, idOf, PATCH_OP, raw, said, USER } from './helpers.ts';

/** A generous bound on one log line and one error detail: far above any useful message. */
const LINE_BOUND = 16_384;

let t: TestBridge;
const lines: string[] = [];

beforeAll(async () => {
  t = await startTestBridge({ logLines: lines });
});
afterAll(async () => {
  await t?.stop();
});

/** The log lines written for the request with this X-Request-Id. */
function linesOf(requestId: string): string[] {
  return lines.filter((line) => line.includes(requestId));
}

const unknownIds = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    value: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  }));

describe('hostile input: what reaches the log', () => {
  it('15,000 unknown member ids: 400, and neither the detail nor any log line is unbounded', async () => {
    const requestId = 'log-bounds-members';
    const r = await t.request(
      'POST',
      '/Groups',
      { schemas: [GROUP], displayName: 'log.bounds', members: unknownIds(15_000) },
      { 'X-Request-Id': requestId },
    );
    const body = expectScimError(r, 400);
    expect(body.detail?.length ?? 0, `detail of ${body.detail?.length} characters`).toBeLessThan(LINE_BOUND);
    const written = linesOf(requestId);
    expect(written.length).toBeGreaterThan(0);
    for (const line of written)
      expect(line.length, `a log line of ${line.length} characters`).toBeLessThan(LINE_BOUND);
  });

  it('a secret placed in a PATCH path is refused and not copied into the log', async () => {
    const secret = 'Hunter2-Secret-In-Path';
    const requestId = 'log-bounds-path';
    const id = await idOf(t, 'alice');
    const r = await t.request(
      'PATCH',
      `/Users/${id}`,
      { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: secret, value: 'x' }] },
      { 'X-Request-Id': requestId },
    );
    expectScimError(r, 400, 'invalidPath');
    expect(linesOf(requestId).length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(secret);
  });

  it('a secret placed in a filter is not copied into the log', async () => {
    const secret = 'Hunter3-Secret-In-Filter';
    const requestId = 'log-bounds-filter';
    await t.request('GET', `/Users?filter=${encodeURIComponent(`nosuch eq "${secret}"`)}`, undefined, {
      'X-Request-Id': requestId,
    });
    expect(linesOf(requestId).length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(secret);
  });

  it('a client that gives up halfway through its body is logged as an abort, not as a 500 with a stack', async () => {
    const requestId = 'log-bounds-abort';
    const body = JSON.stringify({ schemas: [USER], userName: 'log.abort', title: 'x'.repeat(4_000) });
    await raw(t, t.baseUrl, {
      method: 'POST',
      path: '/Users',
      headers: { 'X-Request-Id': requestId, 'Content-Length': String(body.length) },
      body,
      abortAfterBytes: 100,
    });
    // Bounded wait for the bridge to notice the closed socket and log the request.
    for (let i = 0; i < 50 && linesOf(requestId).length === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    const written = linesOf(requestId).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(written.length).toBeGreaterThan(0);
    for (const line of written) {
      expect(line.status, JSON.stringify(line).slice(0, 300)).not.toBe(500);
      expect((line.err as { stack?: string } | undefined)?.stack, 'a stack in the log').toBeUndefined();
      expect(line.level as number, JSON.stringify(line).slice(0, 300)).toBeLessThan(50);
    }
  });

  it('a failed request still gets one bounded log line with its status (bounding keeps the line)', async () => {
    const requestId = 'log-bounds-ordinary';
    const r = await t.request('POST', '/Users', { schemas: [USER] }, { 'X-Request-Id': requestId });
    expect(r.status, said(r)).toBe(400);
    const written = linesOf(requestId).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(written.some((line) => line.status === 400)).toBe(true);
  });
});

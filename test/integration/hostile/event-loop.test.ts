/**
 * Hostile input, class "event-loop stalls" (issue 15, High): any loop over client-sized input —
 * Bulk operations, member lists, filters (PATCH operations: patch-size.test.ts) — chunks or yields,
 * so that no single request holds the event loop for long. The bridge runs in this process, so
 * monitorEventLoopDelay here measures the bridge's own loop. The tests check the answers; the
 * longest stall of each request is printed as a figure, not asserted (timings on a shared two-core
 * machine belong in benchmarks: `npm run bench -- --hostile` prints the PATCH and Bulk curves).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScimResponse, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { BULK_REQUEST, GROUP, measured, PATCH_OP, said, USER } from './helpers.ts';

/** The advertised default maxOperations (limits.bulkMaxOperations). */
const BULK_OPERATIONS = 1_000;

let t: TestBridge;
/** Ids of the users the Bulk test created: the member list of the later tests. */
let userIds: string[] = [];

beforeAll(async () => {
  t = await startTestBridge({ seed: 'empty' });
});
afterAll(async () => {
  await t?.stop();
});

/**
 * Sends the request twice (`send(attempt)`) and keeps the quieter attempt: a stall the request
 * causes shows both times, a pause of the shared machine or a GC of the test rarely twice.
 */
async function stallOf(
  send: (attempt: number) => Promise<ScimResponse>,
): Promise<{ r: ScimResponse; note: string }> {
  const attempts = [await measured(() => send(0)), await measured(() => send(1))];
  const [quieter] = attempts.sort((a, b) => a.maxStallMs - b.maxStallMs);
  if (!quieter) throw new Error('no attempt');
  const { result, ms, maxStallMs } = quieter;
  return { r: result, note: `${said(result, ms)}; longest stall ${Math.round(maxStallMs)} ms` };
}

/** Prints a request's longest event-loop stall: a figure for the reader, not a verdict. */
function stallFigure(note: string): void {
  process.stdout.write(`event-loop figure: ${expect.getState().currentTestName}: ${note}\n`);
}

describe('hostile input: large client-sized input is answered, its event-loop stall printed', () => {
  it(`a Bulk request of ${BULK_OPERATIONS} operations (the advertised maximum)`, async () => {
    const bodies = [0, 1].map((attempt) =>
      JSON.stringify({
        schemas: [BULK_REQUEST],
        Operations: Array.from({ length: BULK_OPERATIONS }, (_, i) => ({
          method: 'POST',
          path: '/Users',
          bulkId: `u${i}`,
          data: {
            schemas: [USER],
            userName: `loop${attempt}.${i}`,
            emails: [{ value: `loop${attempt}.${i}@x.example`, type: 'work' }],
          },
        })),
      }),
    );
    const { r, note } = await stallOf((attempt) => t.request('POST', '/Bulk', bodies[attempt]));
    expect(r.status, note).toBe(200);
    userIds = (r.body.Operations as { location?: string }[]).map((o) => String(o.location?.split('/').pop()));
    stallFigure(note);
  });

  it('a group created with 1,000 members, then read back', async () => {
    expect(userIds).toHaveLength(BULK_OPERATIONS);
    const members = userIds.map((value) => ({ value }));
    const created = await stallOf((attempt) =>
      t.request('POST', '/Groups', { schemas: [GROUP], displayName: `loop.members${attempt}`, members }),
    );
    expect(created.r.status, created.note).toBe(201);
    stallFigure(created.note);
    const read = await stallOf(() => t.request('GET', `/Groups/${created.r.body.id}`));
    expect(read.r.body.members, read.note).toHaveLength(BULK_OPERATIONS);
    stallFigure(read.note);
  });

  it('a PATCH that replaces a member list with 20,000 unknown ids (as in the issue)', async () => {
    const group = await t.request('POST', '/Groups', { schemas: [GROUP], displayName: 'loop.unknown' });
    const value = Array.from({ length: 20_000 }, (_, i) => ({
      value: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    }));
    const { r, note } = await stallOf(() =>
      t.request('PATCH', `/Groups/${group.body.id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', path: 'members', value }],
      }),
    );
    expect(r.status, note).toBe(400);
    stallFigure(note);
  });

  it('a filter as long as maxFilterLength allows: 150 or-ed comparisons', async () => {
    const filter = Array.from({ length: 150 }, (_, i) => `userName eq "loop0.${i * 3}"`).join(' or ');
    const { r, note } = await stallOf(() =>
      t.request('GET', `/Users?count=1000&filter=${encodeURIComponent(filter)}`),
    );
    expect(r.status, note).toBe(200);
    expect(r.body.totalResults, note).toBe(150);
    stallFigure(note);
  });

  it('a filter nested 2,000 parentheses deep', async () => {
    const filter = `${'('.repeat(2_000)}userName eq "loop0.1"${')'.repeat(2_000)}`;
    const { r, note } = await stallOf(() => t.request('GET', `/Users?filter=${encodeURIComponent(filter)}`));
    expect(r.status, note).toBeLessThan(500);
    stallFigure(note);
  });
});

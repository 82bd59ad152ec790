/**
 * `npm run bench -- --hostile`: the cost curves of issue 15. The bridge runs in this process (as in
 * the tests), so monitorEventLoopDelay here samples the bridge's own event loop.
 *
 * PATCH: one user, N `add emails` operations (the issue's reproduction), N = 500 … 10,000; a size
 * that takes longer than 30 s ends the curve. limits.patchMaxOperations is raised to the largest
 * size so that the curve is measured rather than refused (the default, 1,000, answers larger
 * PATCHes with 400 tooMany); one size beyond it shows the refusal. Bulk: N `POST /Users` operations up to the advertised
 * maxOperations, and one size beyond it to show the refusal. Each row: operations, wall time, the
 * status, and the longest single event-loop delay during the request. Prints; asserts nothing.
 * Loopback only; every loop is bounded by its list of sizes.
 */
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../src/config/index.ts';
import { startBridge } from '../src/main.ts';

const PATCH_SIZES = [500, 1_000, 2_000, 5_000, 10_000];
const PATCH_LIMIT = 10_000;
const BULK_SIZES = [100, 250, 500];
/** A size slower than this ends its curve (issue 15 saw 13.7 s at 15,800 operations). */
const SIZE_LIMIT_MS = 30_000;

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

interface Row {
  operations: number;
  ms: number;
  status: string;
  maxStallMs: number;
}

function printRow(kind: string, row: Row): void {
  console.log(
    `${kind.padEnd(6)} ${String(row.operations).padStart(6)} operations  ${row.ms.toFixed(0).padStart(7)} ms  ` +
      `status ${row.status.padEnd(24)} longest event-loop block ${row.maxStallMs.toFixed(0).padStart(6)} ms`,
  );
}

export async function runHostile(): Promise<void> {
  const token = randomBytes(18).toString('base64url');
  const config = loadConfig({
    env: {
      SCIM_BRIDGE_TOKEN: token,
      SCIM_BRIDGE_SERVER_PORT: '0',
      SCIM_BRIDGE_LOG_LEVEL: 'silent',
      SCIM_BRIDGE_LIMITS_PATCH_MAX_OPERATIONS: String(PATCH_LIMIT),
    },
  });
  const bridge = await startBridge({ config, seedLdif: [] });
  const send = async (method: string, path: string, body: unknown): Promise<Row & { json: any }> => {
    const text = JSON.stringify(body);
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const started = performance.now();
    try {
      const response = await fetch(`${bridge.baseUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
        body: text,
        signal: AbortSignal.timeout(SIZE_LIMIT_MS),
      });
      const answer = await response.text();
      const json = answer ? JSON.parse(answer) : undefined;
      const status = `${response.status}${json?.scimType ? ` ${json.scimType}` : ''}`;
      return {
        operations: 0,
        ms: performance.now() - started,
        status,
        maxStallMs: histogram.max / 1e6,
        json,
      };
    } catch (error) {
      const status =
        (error as Error).name === 'TimeoutError' ? `gave up after ${SIZE_LIMIT_MS / 1000} s` : String(error);
      return {
        operations: 0,
        ms: performance.now() - started,
        status,
        maxStallMs: histogram.max / 1e6,
        json: undefined,
      };
    } finally {
      histogram.disable();
    }
  };
  try {
    const maxOperations = config.limits.bulkMaxOperations;
    console.log(
      `scim-ldap-bridge hostile-input cost curves (issue 15): bridge ${bridge.baseUrl}, node ${process.version}, Bulk maxOperations ${maxOperations}`,
    );
    for (const operations of [...PATCH_SIZES, PATCH_LIMIT + 1]) {
      const user = await send('POST', '/Users', { schemas: [USER], userName: `hostile.patch.${operations}` });
      const Operations = Array.from({ length: operations }, (_, i) => ({
        op: 'add',
        path: 'emails',
        value: [{ value: `${i}@x.example` }],
      }));
      const row = await send('PATCH', `/Users/${user.json.id}`, { schemas: [PATCH_OP], Operations });
      printRow('PATCH', { ...row, operations });
      if (row.ms > SIZE_LIMIT_MS || row.status.startsWith('gave up')) break;
    }
    for (const operations of [...BULK_SIZES, maxOperations, maxOperations + 1]) {
      const Operations = Array.from({ length: operations }, (_, i) => ({
        method: 'POST',
        path: '/Users',
        bulkId: `b${i}`,
        data: { schemas: [USER], userName: `hostile.bulk.${operations}.${i}` },
      }));
      const row = await send('POST', '/Bulk', { schemas: [BULK_REQUEST], Operations });
      const failed = (row.json?.Operations as { status: string }[] | undefined)?.filter(
        (o) => !o.status.startsWith('2'),
      );
      const status = failed?.length ? `${row.status} (${failed.length} failed)` : row.status;
      printRow('Bulk', { ...row, operations, status });
      if (row.ms > SIZE_LIMIT_MS || row.status.startsWith('gave up')) break;
    }
  } finally {
    await bridge.stop();
  }
}

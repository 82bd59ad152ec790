/**
 * `server.workers` (node:cluster, issue 18): the service started as a process with workers=2 on
 * the local default. The throwaway slapd and Redis start once (in the primary); requests on fresh
 * connections are answered by both workers (each worker's log lines carry its pid); a worker
 * killed with SIGKILL leaves the other serving while the primary forks a replacement, which
 * serves too; SIGTERM to the primary stops every worker and the primary exits 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const token = randomBytes(18).toString('base64url');
const metricsToken = randomBytes(18).toString('base64url');
const REQUESTS = 24;

let primary: ChildProcess;
let baseUrl: string;
let stdout = '';

/** JSON log lines of the primary and its workers (they share its stdout). */
function logLines(): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function workerPids(): number[] {
  return logLines()
    .filter((l) => l.msg === 'worker started')
    .map((l) => Number(l.workerPid));
}

async function waitFor<T>(what: string, found: () => T | undefined, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const value = found();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not within ${ms} ms\n${stdout.slice(-3000)}`);
}

/** One GET on its own connection (node:cluster spreads connections, not requests); its status. */
function getOnNewConnection(pathName: string, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      `${baseUrl}${pathName}`,
      { agent: false, headers: { Authorization: `Bearer ${token}` }, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms: ${pathName}`)));
    req.on('error', reject);
  });
}

/**
 * A GET retried on no answer (2 s, at most 3 tries), as a client does: a connection the primary
 * hands to a worker at the moment it is killed is lost with it (node:cluster's round-robin).
 */
async function getRetried(pathName: string, tally: { retried: number }): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await getOnNewConnection(pathName, 2_000);
    } catch (error) {
      if (attempt === 3) throw error;
      tally.retried++;
    }
  }
}

/** GET /metrics on its own connection: the count of 200 answers to GET /Users it reports. */
function usersRequestsCounted(): Promise<number> {
  const origin = new URL(baseUrl).origin;
  return new Promise((resolve, reject) => {
    const req = http.get(
      `${origin}/metrics`,
      { agent: false, headers: { Authorization: `Bearer ${metricsToken}` }, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          const line = text
            .split('\n')
            .find(
              (l) =>
                l.startsWith('scim_http_request_duration_seconds_count{') &&
                l.includes('route="GET /Users"') &&
                l.includes('status="200"'),
            );
          resolve(Number(line?.split(' ').at(-1) ?? Number.NaN));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer from /metrics')));
    req.on('error', reject);
  });
}

/** Waits (bounded) until `count` request lines logged at or after `since` have arrived. */
function requestLinesArrived(since: number, count: number): Promise<true> {
  return waitFor(`${count} request lines`, () =>
    logLines().filter((l) => l.msg === 'request' && Number(l.time) >= since).length >= count
      ? true
      : undefined,
  );
}

/** The pids of the request lines logged at or after `since` (epoch ms; lines may arrive late). */
function servingPids(since: number): Set<number> {
  return new Set(
    logLines()
      .filter((l) => l.msg === 'request' && Number(l.time) >= since)
      .map((l) => Number(l.pid)),
  );
}

beforeAll(async () => {
  primary = spawn(path.join(repoRoot, 'node_modules/.bin/node'), ['src/main.ts'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      SCIM_BRIDGE_TOKEN: token,
      SCIM_BRIDGE_SERVER_PORT: '0',
      SCIM_BRIDGE_SERVER_WORKERS: '2',
      SCIM_BRIDGE_METRICS_TOKEN: metricsToken,
      SCIM_BRIDGE_MAPPINGS_WATCH: 'false',
      SCIM_BRIDGE_LOG_LEVEL: 'info',
    },
  });
  primary.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  primary.stderr?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  baseUrl = await waitFor(
    'the primary announcing the URL',
    () => /SCIM base URL: (http:\/\/\S+)/.exec(stdout)?.[1],
  );
  await waitFor('both workers listening', () =>
    logLines().filter((l) => l.msg === 'listening').length >= 2 ? true : undefined,
  );
}, 90_000);

afterAll(async () => {
  if (primary && primary.exitCode === null) primary.kill('SIGKILL');
});

describe('server.workers = 2', () => {
  it('starts the local default once, serves from both workers, replaces a killed one, and drains all on SIGTERM', async () => {
    const started = logLines().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('local default'));
    expect(started.length, 'the throwaway slapd and redis start once, in the primary').toBe(1);
    const [first, second] = workerPids();
    expect(first).toBeDefined();
    expect(second).toBeDefined();

    let mark = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < REQUESTS; i++) statuses.push(await getOnNewConnection('/Users?count=1'));
    expect(statuses).toEqual(Array(REQUESTS).fill(200));
    await requestLinesArrived(mark, REQUESTS);
    expect(servingPids(mark)).toEqual(new Set([first, second]));
    // /metrics sums both workers, whichever answers the scrape (each served half of them).
    expect([await usersRequestsCounted(), await usersRequestsCounted()]).toEqual([REQUESTS, REQUESTS]);

    // One worker killed: the other serves at once.
    process.kill(first as number, 'SIGKILL');
    mark = Date.now();
    const during: number[] = [];
    const tally = { retried: 0 };
    for (let i = 0; i < REQUESTS / 2; i++) during.push(await getRetried('/Users?count=1', tally));
    expect(during).toEqual(Array(REQUESTS / 2).fill(200));
    expect(servingPids(mark).has(first as number)).toBe(false);

    // The primary forks a replacement, which serves too.
    const replacement = await waitFor('a replacement worker', () => workerPids()[2]);
    await waitFor('the replacement listening', () =>
      logLines().filter((l) => l.msg === 'listening').length >= 3 ? true : undefined,
    );
    mark = Date.now();
    for (let i = 0; i < REQUESTS; i++) expect(await getOnNewConnection('/Users?count=1')).toBe(200);
    await requestLinesArrived(mark, REQUESTS);
    expect(servingPids(mark)).toEqual(new Set([second, replacement]));
    console.log(
      `server.workers: workers ${first} and ${second} served; ${first} killed (${tally.retried} of the next ${REQUESTS / 2} requests lost their connection and were retried), replacement ${replacement} served`,
    );

    // SIGTERM: every worker drains and exits, then the primary.
    const exited = new Promise<number | null>((resolve) => primary.once('exit', (code) => resolve(code)));
    primary.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of [second, replacement]) expect(() => process.kill(pid as number, 0)).toThrow();
  });
});

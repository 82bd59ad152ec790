/**
 * Outages under load (issue 17): with slapd or Redis stopped (SIGSTOP) while clients keep
 * sending, every request is answered by its deadline (503 + Retry-After), none hangs; /ready
 * names what is down (503 "cannot serve" for the directory, 200 "degraded" for Redis); and the bridge serves again by itself within RECOVERY_BOUND_MS after the
 * process continues and after it restarts. Recovery times are printed (the closing note).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScimResponse, startTestBridge, type TestBridge } from '../../harness/bridge.ts';

const REQUEST_TIMEOUT_MS = 2_000;
/** The longest a request may take while a dependency hangs: its deadline plus the time to answer. */
const ANSWER_BY_MS = REQUEST_TIMEOUT_MS + 1_500;
const OUTAGE_MS = 6_000;
/** The bound: the bridge serves again within 5 s of the dependency being back. */
const RECOVERY_BOUND_MS = 5_000;
const CLIENTS = 4;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

let t: TestBridge;
let serial = 0;

beforeAll(async () => {
  t = await startTestBridge({
    env: {
      SCIM_BRIDGE_SERVER_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      SCIM_BRIDGE_IDEMPOTENCY_LOCK_TTL_SECONDS: String(Math.ceil(REQUEST_TIMEOUT_MS / 1000)),
    },
  });
});
afterAll(async () => {
  await t?.stop();
});

type Dependency = 'slapd' | 'redis';

/** A request that needs `dependency`: a read needs slapd; a keyed create needs Redis first. */
function requestNeeding(dependency: Dependency): Promise<ScimResponse> {
  if (dependency === 'slapd') return t.request('GET', '/Users?count=2');
  const userName = `outage.${process.pid}.${serial++}`;
  return t.request('POST', '/Users', { schemas: [USER], userName }, { 'Idempotency-Key': userName });
}

interface Answer {
  status: number;
  retryAfter: string | null;
  ms: number;
}

/** CLIENTS clients sending one request after another until `stop` says so (bounded). */
function load(dependency: Dependency, stop: () => boolean): Promise<Answer[]> {
  const answers: Answer[] = [];
  const client = async () => {
    for (let n = 0; n < 500 && !stop(); n++) {
      const started = performance.now();
      const r = await requestNeeding(dependency);
      answers.push({
        status: r.status,
        retryAfter: r.headers.get('retry-after'),
        ms: performance.now() - started,
      });
    }
  };
  return Promise.all(Array.from({ length: CLIENTS }, client)).then(() => answers);
}

/** Milliseconds until a request needing `dependency` succeeds, trying every 100 ms up to the bound. */
async function timeToRecover(dependency: Dependency): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < RECOVERY_BOUND_MS + ANSWER_BY_MS) {
    const r = await requestNeeding(dependency);
    if (r.status === 200 || r.status === 201) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Number.POSITIVE_INFINITY;
}

function pidOf(dependency: Dependency): number {
  const pid = dependency === 'slapd' ? t.bridge.local?.slapd?.pid : t.bridge.local?.redis?.pid;
  if (pid === undefined) throw new Error(`the test bridge should run its own ${dependency}`);
  return pid;
}

describe.each(['slapd', 'redis'] as const)('%s stopped under load', (dependency) => {
  it('every request is answered by its deadline (503 + Retry-After), /ready names it, and service resumes after SIGCONT', async () => {
    let stopping = false;
    const pid = pidOf(dependency);
    process.kill(pid, 'SIGSTOP');
    let answers: Answer[];
    let ready: ScimResponse;
    try {
      const running = load(dependency, () => stopping);
      await new Promise((resolve) => setTimeout(resolve, REQUEST_TIMEOUT_MS));
      const readyResponse = await fetch(`${t.bridge.url}/ready`);
      ready = {
        status: readyResponse.status,
        headers: readyResponse.headers,
        text: '',
        body: await readyResponse.json(),
      };
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS - REQUEST_TIMEOUT_MS));
      stopping = true;
      answers = await running;
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const recoveredMs = await timeToRecover(dependency);
    console.log(
      `${dependency}: served again ${Math.round(recoveredMs)} ms after SIGCONT (${answers.length} requests during the outage)`,
    );

    expect(answers.length).toBeGreaterThan(0);
    const late = answers.filter((a) => a.ms >= ANSWER_BY_MS);
    expect(late, 'requests answered after their deadline').toEqual([]);
    const failed = answers.filter((a) => a.status >= 500);
    expect(failed.length, 'requests cut off by the outage').toBeGreaterThan(0);
    for (const a of failed) {
      expect(a.status).toBe(503);
      expect(a.retryAfter).toMatch(/^\d+$/);
    }
    // The directory down: the instance cannot serve; Redis down: reads go on, it is degraded
    // (docs/architecture.md §Redis outage).
    expect(ready.status).toBe(dependency === 'slapd' ? 503 : 200);
    expect(ready.body.status).toBe(dependency === 'slapd' ? 'cannot serve' : 'degraded');
    const check = dependency === 'slapd' ? 'directory' : 'redis';
    expect(ready.body.checks[check].ok).toBe(false);
    expect(recoveredMs).toBeLessThan(RECOVERY_BOUND_MS);
  });

  it('service resumes by itself after a restart', async () => {
    const local = t.bridge.local;
    const running = dependency === 'slapd' ? local?.slapd : local?.redis;
    if (!running) throw new Error(`the test bridge should run its own ${dependency}`);
    await running.restart();
    const recoveredMs = await timeToRecover(dependency);
    console.log(`${dependency}: served again ${Math.round(recoveredMs)} ms after a restart`);
    expect(recoveredMs).toBeLessThan(RECOVERY_BOUND_MS);
  });
});

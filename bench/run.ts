/**
 * `npm run bench`: the bridge against raw ldapts on the same throwaway slapd, in the same run.
 * POST /Users vs an LDAP add of the same entry; GET /Users/{id} vs an LDAP search by entryUUID for
 * the same attributes; at concurrency 1 and 16. A worker thread makes the raw ldapts calls
 * (bench/load.ts); HTTP load comes from wrk when it is installed (apt-get install wrk), else from
 * the same worker. Prints each figure and the bridge/raw ratio; asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { loadConfig } from '../src/config/index.ts';
import { createLogger, startBridge } from '../src/main.ts';
import type { Figure, LoadSetup, Phase } from './load.ts';
import { userReadAttributes } from './measure.ts';
import { getUsersLua, postUsersLua, runWrk, wrkAvailable } from './wrk.ts';

const COUNTS: Record<number, number> = { 1: 500, 16: 3000 };
const POOL = 4;

function row(name: string, concurrency: number, bridge: Figure, raw: Figure): string {
  const f = (n: number) => n.toFixed(0).padStart(6);
  const ms = (n: number) => n.toFixed(2).padStart(6);
  return `${name.padEnd(26)} c=${String(concurrency).padEnd(3)} bridge ${f(bridge.opsPerSecond)}/s (p50 ${ms(bridge.p50)} ms, p99 ${ms(bridge.p99)} ms)  raw ${f(raw.opsPerSecond)}/s (p50 ${ms(raw.p50)} ms, p99 ${ms(raw.p99)} ms)  ratio ${(bridge.opsPerSecond / raw.opsPerSecond).toFixed(2)}${bridge.cpuMicrosPerOp ? `  (bridge CPU ${bridge.cpuMicrosPerOp.toFixed(0)} µs/op)` : ''}`;
}

async function main(): Promise<void> {
  const token = randomBytes(18).toString('base64url');
  const config = loadConfig({
    env: { SCIM_BRIDGE_TOKEN: token, SCIM_BRIDGE_SERVER_PORT: '0', SCIM_BRIDGE_LOG_LEVEL: 'silent' },
  });
  // --with-logs: the access log at info, as in service, written (synchronously) to /dev/null.
  const withLogs = process.argv.includes('--with-logs');
  const bridge = await startBridge({
    config,
    seedLdif: [],
    ...(withLogs
      ? { logger: createLogger('info', pino.destination({ dest: '/dev/null', sync: true })) }
      : {}),
  });
  const slapd = bridge.local?.slapd;
  if (!slapd) throw new Error('the benchmark needs the local default slapd');
  const setup: LoadSetup = {
    bridgeUrl: bridge.baseUrl,
    token,
    ldapUrl: slapd.url,
    bindDn: slapd.serviceDn,
    bindPassword: slapd.servicePassword,
    pool: POOL,
    run: randomBytes(3).toString('hex'),
    // The very attributes the bridge asks slapd for on GET /Users/{id}: the same search.
    readAttributes: userReadAttributes(bridge),
  };
  const worker = new Worker(new URL('./load.ts', import.meta.url), { workerData: setup });
  const replies: ((value: unknown) => void)[] = [];
  worker.on('message', (m) => replies.shift()?.(m));
  const next = () => new Promise((resolve) => replies.push(resolve));
  await next(); // ready
  const phase = async (p: Phase): Promise<Figure> => {
    const reply = next();
    worker.postMessage(p);
    const m = (await reply) as { figure?: Figure; error?: string };
    if (!m.figure) throw new Error(m.error);
    return m.figure;
  };

  console.log(
    `scim-ldap-bridge benchmark: slapd ${slapd.url}, bridge ${bridge.baseUrl}, ldapts pool ${POOL} (bridge pool ${config.ldap.poolSize}), node ${process.version}`,
  );
  const useWrk = wrkAvailable() && !process.argv.includes('--no-wrk');
  const basePath = new URL(bridge.baseUrl).pathname;
  const origin = new URL(bridge.baseUrl).origin;
  console.log(
    `access log: ${withLogs ? 'on (info, to /dev/null)' : 'off (--with-logs to turn it on)'}; HTTP load: ${useWrk ? 'wrk (1 thread), 5 s per phase' : 'worker thread with node:http keep-alive (install wrk for a cheaper client)'}`,
  );
  const ratios: Record<string, number> = {};
  for (const concurrency of [1, 16]) {
    const count = COUNTS[concurrency]!;
    const tag = `c${concurrency}`;
    const post = useWrk
      ? await runWrk(origin, postUsersLua(token, basePath, `w${setup.run}${tag}u`), concurrency, 5)
      : await phase({ kind: 'bridgePost', concurrency, count, tag });
    const add = await phase({ kind: 'rawAdd', concurrency, count, tag });
    console.log(row('POST /Users | ldap add', concurrency, post, add));
    let get: Figure;
    if (useWrk) {
      const response = await fetch(
        `${bridge.baseUrl}/Users?count=1000&attributes=id&filter=${encodeURIComponent(`userName sw "w${setup.run}"`)}`,
        {
          headers: { Authorization: `Bearer ${token}` },
        },
      );
      const ids = ((await response.json()) as { Resources: { id: string }[] }).Resources.map((r) => r.id);
      get = await runWrk(origin, getUsersLua(token, basePath, ids), concurrency, 5);
    } else {
      get = await phase({ kind: 'bridgeGet', concurrency, count: count * 2, tag });
    }
    const search = await phase({ kind: 'rawGet', concurrency, count: count * 2, tag });
    console.log(row('GET /Users/{id} | search', concurrency, get, search));
    ratios[`POST c=${concurrency}`] = post.opsPerSecond / add.opsPerSecond;
    ratios[`GET c=${concurrency}`] = get.opsPerSecond / search.opsPerSecond;
  }

  console.log(
    `issue 2 target, ratios >= 0.5 at c=16: POST ${ratios['POST c=16']?.toFixed(2)}, GET ${ratios['GET c=16']?.toFixed(2)}`,
  );
  const closed = next();
  worker.postMessage('close');
  await closed;
  await worker.terminate();
  await bridge.stop();
}

/** `npm run bench -- --MODE`: the benchmarks besides the default one, by flag. */
const MODES: Record<string, () => Promise<void>> = {
  '--grant': () => import('./grant.ts').then((m) => m.runGrant()),
  '--cluster': () => import('./cluster.ts').then((m) => m.runCluster()),
  '--scale': () => import('./scale.ts').then((m) => m.runScale()),
  '--membership': () => import('./membership.ts').then((m) => m.runMembership()),
  '--writes': () => import('./writes.ts').then((m) => m.runWrites()),
  '--floor': () => import('./floor.ts').then((m) => m.runFloorComparison()),
  '--hostile': () => import('./hostile.ts').then((m) => m.runHostile()),
  '--pages': () => import('./concurrent-pages.ts').then((m) => m.runConcurrentPages()),
  '--feed': () => import('./feed.ts').then((m) => m.runFeed()),
  '--admin': () => import('./admin.ts').then((m) => m.runAdmin()),
  '--deletes': () => import('./deletes.ts').then((m) => m.runDeletes()),
};
const mode = Object.keys(MODES).find((flag) => process.argv.includes(flag));
const entry = mode
  ? MODES[mode]!()
  : main().then(() => import('./floor.ts').then((m) => m.runFloorComparison()));
entry.catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

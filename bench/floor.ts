/**
 * The bridge against the floor (issue 17's yardstick): GET /Users/{id} and
 * `filter=userName eq` from the bridge and from bench/floor-server.ts, the thinnest node:http +
 * ldapts server that asks slapd the same question. Both run in processes of their own on the same
 * throwaway slapd, so both are measured alike: throughput and latency from wrk, CPU per request
 * from /proc. At c=1 and c=16, in rounds whose first side alternates, so that the VM's drift meets
 * both. A third side, the Koa floor (the same server on Koa + @koa/router, the framework the design
 * card fixes), shows how much of the gap the framework alone takes. Prints figures and ratios;
 * asserts nothing. Needs wrk (Debian package `wrk`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBridgeProcess } from './bridge-process.ts';
import { startFloorProcess } from './floor-server.ts';
import { argValue, BENCH_PEOPLE, userLdif, writeLdif } from './measure.ts';
import { getUsersLua, runWrk, wrkAvailable } from './wrk.ts';

const SECONDS = 4;
/** Rounds per read and concurrency; `--floor-rounds N` for more (medians settle with 3). */
const DEFAULT_ROUNDS = 2;
const POOL = 4;

interface Side {
  name: 'bridge' | 'floor' | 'koa floor';
  baseUrl: string;
  cpuMicros(): number;
}

interface Measured {
  perSecond: number;
  p50: number;
  p99: number;
  cpuMicrosPerRequest: number;
}

/** Lua for GET /Users?filter=userName eq "..." cycling through user names. */
function userNameEqLua(token: string, basePath: string, userNames: string[]): string {
  return `local names = {${userNames.map((u) => `"${u}"`).join(',')}}
local n = 0
wrk.headers["Authorization"] = "Bearer ${token}"
request = function()
  n = n + 1
  return wrk.format("GET", "${basePath}/Users?filter=userName%20eq%20%22" .. names[(n % #names) + 1] .. "%22")
end
`;
}

async function measureSide(side: Side, lua: string, concurrency: number): Promise<Measured> {
  const url = new URL(side.baseUrl);
  const cpuBefore = side.cpuMicros();
  const figure = await runWrk(url.origin, lua, concurrency, SECONDS);
  const requests = figure.opsPerSecond * SECONDS;
  return {
    perSecond: figure.opsPerSecond,
    p50: figure.p50,
    p99: figure.p99,
    cpuMicrosPerRequest: (side.cpuMicros() - cpuBefore) / requests,
  };
}

const show = (m: Measured) =>
  `${m.perSecond.toFixed(0).padStart(6)}/s p50 ${m.p50.toFixed(2).padStart(5)} ms p99 ${m.p99.toFixed(2).padStart(6)} ms CPU ${m.cpuMicrosPerRequest.toFixed(0).padStart(4)} µs/req`;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

export async function runFloorComparison(): Promise<void> {
  if (!wrkAvailable()) {
    console.log('bridge vs floor: skipped (needs wrk: apt-get install wrk)');
    return;
  }
  const users = argValue('--floor-users', 2000);
  const rounds = argValue('--floor-rounds', DEFAULT_ROUNDS);
  const token = randomBytes(18).toString('base64url');
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-floor-'));
  const userNames = Array.from({ length: users }, (_, i) => `floor${String(i).padStart(6, '0')}`);
  const ldif = path.join(dir, 'users.ldif');
  await writeLdif(
    ldif,
    userNames.map((uid, i) =>
      userLdif(uid, { cn: `Floor ${i}`, sn: `User${i}`, displayName: `Floor User ${i}` }),
    ),
  );
  const bridge = await startBridgeProcess(token, [ldif]);
  const basePath = new URL(bridge.baseUrl).pathname;
  const floorSetup = {
    ldapUrl: bridge.ldapUrl,
    bindDn: bridge.serviceDn,
    bindPassword: bridge.servicePassword,
    token,
    basePath,
    searchBase: BENCH_PEOPLE,
    attributes: bridge.userReadAttributes,
    pool: POOL,
  };
  const floor = await startFloorProcess(floorSetup);
  const koaFloor = await startFloorProcess({ ...floorSetup, framework: 'koa' });
  try {
    const ids = await listIds(bridge.baseUrl, token);
    const reads = [
      { name: 'GET /Users/{id}', lua: getUsersLua(token, basePath, ids) },
      { name: 'userName eq', lua: userNameEqLua(token, basePath, userNames.slice(0, 1000)) },
    ];
    const sides: Side[] = [
      { name: 'bridge', baseUrl: bridge.baseUrl, cpuMicros: () => bridge.cpuMicros() },
      { name: 'floor', baseUrl: floor.baseUrl, cpuMicros: () => floor.cpuMicros() },
      { name: 'koa floor', baseUrl: koaFloor.baseUrl, cpuMicros: () => koaFloor.cpuMicros() },
    ];
    console.log(
      `\nbridge vs floor (node:http + ldapts, same LDAP search, pool ${POOL}), ${users} users, wrk ${SECONDS} s per side, ${rounds} rounds, first side alternating`,
    );
    // Warm both (JIT, slapd caches), unmeasured.
    for (const side of sides) for (const read of reads) await measureSide(side, read.lua, 16);
    for (const concurrency of [1, 16]) {
      for (const read of reads) await compare(read, sides, concurrency, rounds);
    }
  } finally {
    await floor.stop();
    await koaFloor.stop();
    await bridge.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function compare(
  read: { name: string; lua: string },
  sides: Side[],
  concurrency: number,
  rounds: number,
): Promise<void> {
  const throughput: number[] = [];
  const cpu: number[] = [];
  const koaThroughput: number[] = [];
  const koaCpu: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    const results = new Map<string, Measured>();
    for (const side of order) results.set(side.name, await measureSide(side, read.lua, concurrency));
    const b = results.get('bridge')!;
    const f = results.get('floor')!;
    const k = results.get('koa floor')!;
    throughput.push(b.perSecond / f.perSecond);
    cpu.push(b.cpuMicrosPerRequest / f.cpuMicrosPerRequest);
    koaThroughput.push(b.perSecond / k.perSecond);
    koaCpu.push(b.cpuMicrosPerRequest / k.cpuMicrosPerRequest);
    console.log(
      `${read.name.padEnd(16)} c=${String(concurrency).padEnd(2)} round ${round + 1}  bridge ${show(b)}  floor ${show(f)}  koa floor ${show(k)}  throughput ${(b.perSecond / f.perSecond).toFixed(2)}  CPU ${(b.cpuMicrosPerRequest / f.cpuMicrosPerRequest).toFixed(2)}`,
    );
  }
  console.log(
    `${read.name.padEnd(16)} c=${String(concurrency).padEnd(2)} median bridge/floor: throughput ${median(throughput).toFixed(2)} (target at c=16: >= 0.9), CPU per request ${median(cpu).toFixed(2)} (target <= 1.3); bridge/koa floor: throughput ${median(koaThroughput).toFixed(2)}, CPU per request ${median(koaCpu).toFixed(2)}`,
  );
}

async function listIds(baseUrl: string, token: string): Promise<string[]> {
  const response = await fetch(`${baseUrl}/Users?count=1000&attributes=id`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (response.status !== 200) throw new Error(`listing ids failed: ${response.status}`);
  return ((await response.json()) as { Resources: { id: string }[] }).Resources.map((r) => r.id);
}

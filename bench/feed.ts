/**
 * `npm run bench -- --feed [--changes N] [--users N]`: the change feed (issue 19) on the local
 * slapd (accesslog overlay).
 *  1. latency: one direct LDAP modify at a time (at a random point of the poll cycle), timed from the modify's answer to the webhook's
 *     arrival at a receiver in this process (feed poll + publish + delivery), p50/p99, at the
 *     default poll interval (250 ms) and at 50 ms;
 *  2. throughput: N modifies sent by `ldapmodify` (another process), timed from the first change
 *     to the feed having handled the last record; the CPU of this process (feed, delivery workers,
 *     receiver) and of slapd over that time;
 *  3. reconciliation of a directory of N users bulk-loaded with slapadd: wall time and this
 *     process's peak RSS, for a first run (every entry is new to the service) and a second (none).
 * Prints figures; asserts nothing. Loopback only; every loop is bounded by a count and a deadline.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Attribute, Change, Client } from 'ldapts';
import { loadConfig } from '../src/config/index.ts';
import { FeedReader, reconcile } from '../src/feed/index.ts';
import { EventPublisher } from '../src/jobs/index.ts';
import { startRedis } from '../src/localdev/redis.ts';
import { BASE_LDIF, startSlapd } from '../src/localdev/slapd.ts';
import { startBridge } from '../src/main.ts';
import { STANDARD_SCHEMAS } from '../src/mapping/catalog.ts';
import { loadMappingDirectory } from '../src/mapping/load.ts';
import { argValue, BENCH_PEOPLE, processCpuMicros, userLdif, writeLdif } from './measure.ts';

const execFileAsync = promisify(execFile);
const SECRET = 'bench-feed-secret-0123456789';
const LATENCY_SAMPLES = 200;
const DEADLINE_MS = 120_000;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;

/** A webhook receiver that resolves a waiter when an event of a resource arrives. */
async function startReceiver() {
  const waiters = new Map<string, () => void>();
  let received = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received++;
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceId: string };
      waiters.get(event.resourceId)?.();
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received: () => received,
    next(resourceId: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no delivery within the deadline')), DEADLINE_MS);
        waiters.set(resourceId, () => {
          clearTimeout(timer);
          waiters.delete(resourceId);
          resolve();
        });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function latencyAndThroughput(pollIntervalMs: number, changes: number): Promise<void> {
  const receiver = await startReceiver();
  const bridge = await startBridge({
    config: loadConfig({
      env: {
        SCIM_BRIDGE_TOKEN: randomBytes(18).toString('base64url'),
        SCIM_BRIDGE_SERVER_PORT: '0',
        SCIM_BRIDGE_LOG_LEVEL: 'silent',
        SCIM_BRIDGE_EVENTS_ENABLED: 'true',
        SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([
          { name: 'bench', url: receiver.url, secret: SECRET, concurrency: 16, ratePerSecond: 100_000 },
        ]),
        SCIM_BRIDGE_FEED_ENABLED: 'true',
        SCIM_BRIDGE_FEED_POLL_INTERVAL_MS: String(pollIntervalMs),
      },
    }),
    seedLdif: [],
  });
  const slapd = bridge.local?.slapd;
  const feed = bridge.feed;
  if (!slapd || !feed) throw new Error('the benchmark needs the local slapd and the feed');
  const root = new Client({ url: slapd.url });
  await root.bind(slapd.rootDn, slapd.rootPassword);
  try {
    const dn = `uid=feed-bench,${BENCH_PEOPLE}`;
    await root.add(dn, { objectClass: ['inetOrgPerson'], uid: 'feed-bench', cn: 'B', sn: 'B' });
    const { searchEntries } = await root.search(dn, { scope: 'base', attributes: ['entryUUID'] });
    const id = String(searchEntries[0]?.entryUUID).toLowerCase();
    await receiver.next(id);
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      // A random pause first, so changes fall anywhere in the poll cycle (not right after a poll).
      await new Promise((resolve) => setTimeout(resolve, Math.random() * pollIntervalMs));
      const delivered = receiver.next(id);
      const change = new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'title', values: [`t${i}`] }),
      });
      await root.modify(dn, [change]);
      const t0 = performance.now();
      await delivered;
      latencies.push(performance.now() - t0);
    }
    latencies.sort((a, b) => a - b);
    console.log(
      `feed latency (poll ${pollIntervalMs} ms), direct modify -> webhook delivered: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms (${latencies.length} changes, one at a time, at random points of the poll cycle)`,
    );
    if (changes > 0) await throughput(slapd, feed, dn, changes);
  } finally {
    await root.unbind().catch(() => undefined);
    await bridge.stop();
    await receiver.close();
  }
}

async function throughput(
  slapd: { url: string; rootDn: string; rootPassword: string; dataDir: string; pid: number },
  feed: NonNullable<Awaited<ReturnType<typeof startBridge>>['feed']>,
  dn: string,
  changes: number,
): Promise<void> {
  const ldif = path.join(slapd.dataDir, 'bench-changes.ldif');
  await writeLdif(
    ldif,
    Array.from(
      { length: changes },
      (_, i) => `dn: ${dn}\nchangetype: modify\nreplace: title\ntitle: burst${i}\n-\n\n`,
    ),
  );
  const recordsBefore = feed.status().records;
  const cpu0 = process.cpuUsage();
  const slapdCpu0 = processCpuMicros(slapd.pid);
  const t0 = performance.now();
  await execFileAsync('ldapmodify', [
    '-x',
    '-H',
    slapd.url,
    '-D',
    slapd.rootDn,
    '-w',
    slapd.rootPassword,
    '-f',
    ldif,
  ]);
  const sent = performance.now() - t0;
  const deadline = Date.now() + DEADLINE_MS;
  while (feed.status().records - recordsBefore < changes && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 5));
  const seconds = (performance.now() - t0) / 1000;
  const handled = feed.status().records - recordsBefore;
  const cpu = process.cpuUsage(cpu0);
  const slapdCpu = processCpuMicros(slapd.pid) - slapdCpu0;
  console.log(
    `feed throughput: ${handled} direct modifies (ldapmodify sent them in ${(sent / 1000).toFixed(2)} s) handled in ${seconds.toFixed(2)} s = ${(handled / seconds).toFixed(0)} changes/s; ` +
      `bridge process CPU ${((cpu.user + cpu.system) / 1000 / seconds / 10).toFixed(0)}% of a core (feed + delivery workers + receiver, ${((cpu.user + cpu.system) / handled).toFixed(0)} µs/change), slapd ${(slapdCpu / 1000 / seconds / 10).toFixed(0)}% of a core`,
  );
}

function* usersLdif(users: number): Generator<string> {
  for (let i = 0; i < users; i++) {
    const uid = `user${String(i).padStart(6, '0')}`;
    yield userLdif(uid, { cn: `Person ${i}`, sn: `Number${i}`, displayName: `Person ${i}` });
  }
}

async function reconcileAtScale(users: number): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-feed-'));
  const ldif = path.join(dir, 'users.ldif');
  await writeLdif(ldif, usersLdif(users));
  let t0 = performance.now();
  const slapd = await startSlapd({ seedLdif: [BASE_LDIF, ldif] });
  console.log(`slapadd of ${users} users and start: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const redisServer = await startRedis();
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  const config = loadConfig({
    env: {
      SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([
        { name: 'bench', url: 'http://127.0.0.1:9/none', secret: SECRET },
      ]),
    },
  });
  const publisher = new EventPublisher({ connection: redis, keyPrefix: 'bench:', events: config.events });
  const reader = new FeedReader(
    { url: slapd.url, bindDn: slapd.serviceDn, bindPassword: slapd.servicePassword },
    'cn=accesslog',
  );
  const mappings = loadMappingDirectory('mappings/openldap', STANDARD_SCHEMAS);
  try {
    for (const run of ['first (all new to the service)', 'second (no differences)']) {
      let peak = process.memoryUsage().rss;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 20);
      const rss0 = process.memoryUsage().rss;
      t0 = performance.now();
      const report = await reconcile({
        redis,
        keyPrefix: 'bench:',
        publisher,
        reader,
        mappings,
        services: ['bench'],
        dryRun: false,
      });
      const seconds = (performance.now() - t0) / 1000;
      clearInterval(sampler);
      const counts = report.bench;
      console.log(
        `reconcile ${run}: ${users} users in ${seconds.toFixed(1)} s (${(users / seconds).toFixed(0)} entries/s); created ${counts?.created}, updated ${counts?.updated}, deleted ${counts?.deleted}, unchanged ${counts?.unchanged}; ` +
          `RSS ${(rss0 / 2 ** 20).toFixed(0)} MiB before, peak ${(peak / 2 ** 20).toFixed(0)} MiB`,
      );
    }
  } finally {
    await reader.close();
    await publisher.close();
    await redis.quit().catch(() => redis.disconnect());
    await Promise.allSettled([slapd.stop(), redisServer.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runFeed(): Promise<void> {
  const changes = argValue('--changes', 5_000);
  await latencyAndThroughput(250, 0);
  await latencyAndThroughput(50, changes);
  await reconcileAtScale(argValue('--users', 100_000));
}

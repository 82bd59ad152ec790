/**
 * `npm run bench -- --pages`: concurrent sorted list pages (issue 17). 16 and 64 clients ask for
 * `sortBy=userName` pages at once, the first page and a deep one, over 10,000 and 100,000 users
 * (`--users N` for one size, `--page-size N` for the count of each page). The bridge runs in its own process (bench/bridge-process.ts) on the
 * local default slapd (seeded with slapadd); its RSS is sampled every 50 ms. Prints, per phase,
 * the non-2xx answers, throughput, p50/p99 and the peak RSS; asserts nothing. Loopback only;
 * every phase is bounded by a request count and a duration.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBridgeProcess } from './bridge-process.ts';
import { argValue, httpClient, measure, userLdif, writeLdif } from './measure.ts';

/** Page size (`--page-size N`, default 50). */
const PAGE = argValue('--page-size', 50);
const REQUESTS_PER_PHASE = 1_200;
const SECONDS_PER_PHASE = 15;

function* usersLdif(users: number): Generator<string> {
  for (let i = 0; i < users; i++) {
    const uid = `user${String(i).padStart(6, '0')}`;
    yield userLdif(uid, { cn: `Person ${i}`, sn: `Number${i}`, displayName: `Person ${i}` });
  }
}

async function runSize(users: number): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-pages-'));
  try {
    const ldif = path.join(dir, 'users.ldif');
    await writeLdif(ldif, usersLdif(users));
    const token = randomBytes(18).toString('base64url');
    const bridge = await startBridgeProcess(token, [ldif]);
    const client = httpClient(bridge.baseUrl, token);
    try {
      // Warm-up: the first sorted search of a size builds slapd's caches.
      await client.request('GET', `/Users?sortBy=userName&startIndex=1&count=1`);
      for (const concurrency of [16, 64]) {
        for (const [kind, startIndex] of [
          ['first', 1],
          ['deep', users - PAGE * 4],
        ] as const) {
          let failed = 0;
          const statuses = new Map<number, number>();
          let peakRss = bridge.memory().rss;
          const sampler = setInterval(() => {
            peakRss = Math.max(peakRss, bridge.memory().rss);
          }, 50);
          const figure = await measure(REQUESTS_PER_PHASE, concurrency, SECONDS_PER_PHASE, async (i) => {
            // Spread over a few neighbouring pages, as clients paging through one list do.
            const at = startIndex + (i % 4) * PAGE;
            const r = await client.request('GET', `/Users?sortBy=userName&startIndex=${at}&count=${PAGE}`);
            if (r.status < 200 || r.status > 299) {
              failed++;
              statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
            }
          });
          clearInterval(sampler);
          const byStatus = [...statuses].map(([status, n]) => `${n}x${status}`).join(' ');
          console.log(
            `${String(users).padStart(6)} users  c=${String(concurrency).padEnd(2)} ${kind.padEnd(5)} page: ` +
              `non-2xx ${failed}/${figure.count}${byStatus ? ` (${byStatus})` : ''}  ` +
              `${figure.perSecond.toFixed(0).padStart(5)}/s  p50 ${figure.p50.toFixed(1).padStart(7)} ms  ` +
              `p99 ${figure.p99.toFixed(1).padStart(7)} ms  peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB`,
          );
        }
      }
      console.log(
        `${String(users).padStart(6)} users  bridge peak RSS since start ${(bridge.memory().peakRss / 2 ** 20).toFixed(0)} MB`,
      );
    } finally {
      client.close();
      await bridge.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runConcurrentPages(): Promise<void> {
  const one = argValue('--users', 0);
  console.log(
    `concurrent sorted pages: count=${PAGE}, up to ${REQUESTS_PER_PHASE} requests or ${SECONDS_PER_PHASE} s per phase, bridge in its own process`,
  );
  for (const users of one > 0 ? [one] : [10_000, 100_000]) await runSize(users);
}

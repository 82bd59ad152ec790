/**
 * What every benchmark shares: bounded measurement loops with percentiles, the figure format,
 * numeric command-line options, a keep-alive HTTP client for the bridge, and streaming LDIF out for
 * slapadd. Loopback only; every loop is bounded by a count and a duration.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import http from 'node:http';
import type { RunningBridge } from '../src/main.ts';
import { readAttributes } from '../src/services/resources/read.ts';

export interface Figure {
  count: number;
  perSecond: number;
  p50: number;
  p99: number;
}

export function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Runs `op` at `concurrency` until `total` calls or `seconds` have passed, whichever comes first. */
export async function measure(
  total: number,
  concurrency: number,
  seconds: number,
  op: (i: number) => Promise<void>,
  /** Untimed work before each op (e.g. a write that makes the op start cold). */
  prepare?: (i: number) => Promise<void>,
): Promise<Figure> {
  const latencies: number[] = [];
  let next = 0;
  let preparing = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total && performance.now() < deadline) {
        const i = next++;
        if (prepare) {
          const p0 = performance.now();
          await prepare(i);
          preparing += performance.now() - p0;
        }
        const t0 = performance.now();
        await op(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started - preparing / concurrency) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { count: latencies.length, perSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) };
}

export const fmt = (f: Figure) =>
  `${f.perSecond.toFixed(0).padStart(6)}/s  p50 ${f.p50.toFixed(2).padStart(8)} ms  p99 ${f.p99.toFixed(2).padStart(8)} ms  (n=${f.count})`;

export interface HttpClient {
  request(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }>;
  close(): void;
}

/** node:http keep-alive client for the bridge's base URL. */
export function httpClient(baseUrl: string, token: string): HttpClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const base = new URL(baseUrl);
  return {
    request: (method, p, body) =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = http.request(
          {
            agent,
            host: base.hostname,
            port: base.port,
            method,
            path: `${base.pathname}${p}`,
            headers: {
              Authorization: `Bearer ${token}`,
              ...(payload
                ? { 'Content-Type': 'application/scim+json', 'Content-Length': Buffer.byteLength(payload) }
                : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      }),
    close: () => agent.destroy(),
  };
}

/** A wrk run (requests/s and latency percentiles over `seconds`) as a Figure. */
export function wrkFigure(f: { opsPerSecond: number; p50: number; p99: number }, seconds: number): Figure {
  return { count: Math.round(f.opsPerSecond * seconds), perSecond: f.opsPerSecond, p50: f.p50, p99: f.p99 };
}

/** Writes LDIF entries (each ending in a blank line) to `file` as they are generated. */
export async function writeLdif(file: string, entries: Iterable<string>): Promise<void> {
  const out = createWriteStream(file);
  for (const entry of entries) {
    if (!out.write(entry)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

/** What the bridge asks the directory for when it reads a User (no projection): the raw side's attribute list. */
export function userReadAttributes(bridge: RunningBridge): string[] {
  const user = bridge.mappings().resourceTypes.find((rt) => rt.name === 'User');
  if (!user) throw new Error('the mapping has no User resource type');
  return readAttributes(user, {});
}

/** The People container of the local default slapd. */
export const BENCH_PEOPLE = 'ou=People,dc=example,dc=com';

/** One inetOrgPerson user under BENCH_PEOPLE as an LDIF record (blank line included), for slapadd. */
export function userLdif(
  uid: string,
  names: { cn: string; sn: string; displayName: string },
  memberOf: readonly string[] = [],
): string {
  return `dn: uid=${uid},${BENCH_PEOPLE}
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
objectClass: scimResource
uid: ${uid}
cn: ${names.cn}
sn: ${names.sn}
givenName: Person
displayName: ${names.displayName}
mail: ${uid}@example.org
scimActive: TRUE
${memberOf.map((dn) => `memberOf: ${dn}\n`).join('')}
`;
}

/** CPU time a process has used so far: utime + stime (fields 14 and 15 of /proc/<pid>/stat, which
 * Linux reports at 100 ticks a second), in microseconds. */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

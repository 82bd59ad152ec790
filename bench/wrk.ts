/**
 * HTTP load with wrk (Debian package `wrk`), when installed: a C load generator costs the machine
 * far less CPU per request than a Node client, so the bridge is measured rather than its client.
 * Runs are bounded by duration; loopback only.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Figure } from './load.ts';

export function wrkAvailable(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version exits 1 after printing its version
    return (error as { status?: number }).status === 1;
  }
}

/** Runs wrk with a Lua script for `seconds` at `connections`; returns throughput and latencies. */
export async function runWrk(
  url: string,
  lua: string,
  connections: number,
  seconds: number,
): Promise<Figure> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-wrk-'));
  try {
    const script = path.join(dir, 'script.lua');
    writeFileSync(script, lua);
    const cpuBefore = process.cpuUsage();
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        'wrk',
        ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--latency', '-s', script, url],
        { timeout: (seconds + 30) * 1000 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      );
    });
    const failures = /Non-2xx or 3xx responses: (\d+)/.exec(output);
    if (failures) throw new Error(`wrk saw ${failures[1]} failed responses:\n${output}`);
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
    if (!rps) throw new Error(`unexpected wrk output:\n${output}`);
    const cpu = process.cpuUsage(cpuBefore);
    const total = Number(/(\d+) requests in/.exec(output)?.[1] ?? Number.NaN);
    return {
      opsPerSecond: Number(rps[1]),
      p50: latency(output, '50%'),
      p99: latency(output, '99%'),
      // This process's CPU (the bridge, when it runs in the benchmark's process) per request.
      cpuMicrosPerOp: (cpu.user + cpu.system) / total,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function latency(output: string, percentile: string): number {
  const m = new RegExp(`${percentile}\\s+([\\d.]+)(us|ms|s)`).exec(output);
  if (!m) return Number.NaN;
  const value = Number(m[1]);
  return m[2] === 'us' ? value / 1000 : m[2] === 's' ? value * 1000 : value;
}

/** Lua for POST /Users with a fresh userName per request. */
export function postUsersLua(token: string, basePath: string, prefix: string): string {
  return `local n = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer ${token}"
wrk.headers["Content-Type"] = "application/scim+json"
request = function()
  n = n + 1
  local u = "${prefix}" .. n
  local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' .. u .. '","name":{"givenName":"Bench","familyName":"User' .. n .. '"},"displayName":"Bench User ' .. n .. '","emails":[{"value":"' .. u .. '@example.org","type":"work","primary":true}],"active":true}'
  return wrk.format(nil, "${basePath}/Users", nil, body)
end
`;
}

/** Lua for GET /Users/{id} cycling through ids. */
export function getUsersLua(token: string, basePath: string, ids: string[]): string {
  return `local ids = {${ids.map((id) => `"${id}"`).join(',')}}
local n = 0
wrk.headers["Authorization"] = "Bearer ${token}"
request = function()
  n = n + 1
  return wrk.format("GET", "${basePath}/Users/" .. ids[(n % #ids) + 1])
end
`;
}

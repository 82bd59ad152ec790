/**
 * A throwaway Redis Sentinel (`redis-server <conf> --sentinel`, Debian package redis-server) on a
 * free loopback port, monitoring a local master: with a replica from startRedis({ replicaOf }),
 * the smallest Sentinel deployment, for tests of redis.sentinels. Dev/test infrastructure only.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freeLoopbackPort } from './net.ts';
import { ownDir, removeOwnedDir, supervise, waitUntilReady } from './process.ts';
import { missingRedisBinaries, probeRedis } from './redis.ts';

const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;

export interface SentinelOptions {
  /** The port of the local master to monitor. */
  masterPort: number;
  /** The master name (config redis.name). */
  name: string;
  /** How long the master may not answer before it counts as down. Default 1 s. */
  downAfterMs?: number;
}

export interface RunningSentinel {
  port: number;
  pid: number;
  /** `127.0.0.1:<port>`, as redis.sentinels takes it. */
  address: string;
  stop(): Promise<void>;
}

/**
 * The sentinel's configuration file (it rewrites it as it learns replicas and failovers). Quorum
 * 1: one sentinel decides alone, which only a test may do.
 */
export function sentinelConfig(port: number, dir: string, options: SentinelOptions): string {
  const { name } = options;
  return [
    `port ${port}`,
    'bind 127.0.0.1',
    'daemonize no',
    `dir ${dir}`,
    `sentinel monitor ${name} 127.0.0.1 ${options.masterPort} 1`,
    `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1_000}`,
    `sentinel failover-timeout ${name} 10000`,
    `sentinel parallel-syncs ${name} 1`,
    '',
  ].join('\n');
}

export async function startSentinel(options: SentinelOptions): Promise<RunningSentinel> {
  const missing = missingRedisBinaries();
  if (missing.length > 0) throw new Error(`cannot start Redis Sentinel; missing: ${missing.join(', ')}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'scim-bridge-sentinel-'));
  ownDir(dir);
  const port = await freeLoopbackPort();
  const configFile = path.join(dir, 'sentinel.conf');
  await writeFile(configFile, sentinelConfig(port, dir, options));
  const child = spawn('redis-server', [configFile, '--sentinel'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const supervised = supervise(child);
  const pid = child.pid ?? -1;
  try {
    await waitUntilReady({
      program: 'redis-server --sentinel',
      probe: () => probeRedis(port, pid),
      exited: supervised.exited,
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 20,
      readiness: 'PING',
    });
  } catch (error) {
    await supervised.stop(STOP_GRACE_MS);
    await removeOwnedDir(dir);
    throw new Error(`${(error as Error).message}\n--- output ---\n${supervised.output().trim()}`);
  }
  return {
    port,
    pid,
    address: `127.0.0.1:${port}`,
    async stop() {
      await supervised.stop(STOP_GRACE_MS);
      await removeOwnedDir(dir);
    },
  };
}

/**
 * Throwaway redis-server instances for tests and the local demo: a child process on a free loopback
 * port, in a temp dir, owned (and killed) by this process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freeLoopbackPort } from './net.ts';

export interface RedisOptions {
  /** Default: a free loopback port. */
  port?: number;
  /** Working dir (AOF files). Default: a fresh temp dir, removed on stop(); a given dir is kept. */
  dir?: string;
  /** `--appendonly yes --appendfsync always`: every acknowledged write survives kill(). */
  durable?: boolean;
  /** Readiness deadline. Default 10 s. */
  readyTimeoutMs?: number;
  /** The port of a local master to replicate (`--replicaof 127.0.0.1 <port>`): a replica for Sentinel tests. */
  replicaOf?: number;
}

export interface RunningRedis {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** PID of the current server process (changes on restart). */
  readonly pid: number;
  /** SIGTERM (SIGKILL after 5 s), then removes the temp dir unless it was given. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, for crash tests; the dir is kept so restart() can recover from it. */
  kill(): Promise<void>;
  /** Stops the server if it runs and starts it again on the same port and dir. */
  restart(): Promise<void>;
}

const BINARY = 'redis-server';
const OUTPUT_LIMIT = 8192;
const STOP_GRACE_MS = 5000;
const START_ATTEMPTS = 3;

function onPath(binary: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(path.join(dir, binary), constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

/** What must be installed before startRedis() can work, e.g. ['redis-server (apt-get install redis-server)']. */
export function missingRedisBinaries(): string[] {
  return onPath(BINARY) ? [] : [`${BINARY} (apt-get install redis-server)`];
}

// Every child we own, killed when this process exits (normally or through process.exit).
const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/**
 * Readiness probe over a raw socket: PING must answer +PONG (not -LOADING while an AOF replays), and
 * INFO's process_id must be `pid` - so a foreign server already on the port never passes for ours.
 */
export function probeRedis(port: number, pid: number | undefined, timeoutMs = 1000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let buffer = '';
    const done = (error?: Error): void => {
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    socket.setTimeout(timeoutMs, () => done(new Error('probe timed out')));
    socket.on('error', done);
    socket.on('close', () => done(new Error('connection closed before a complete reply')));
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n'));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      const firstEnd = buffer.indexOf('\r\n');
      if (firstEnd < 0) return;
      const first = buffer.slice(0, firstEnd);
      if (first !== '+PONG') return done(new Error(`PING answered ${JSON.stringify(first)}`));
      const header = /^\$(\d+)\r\n/.exec(buffer.slice(firstEnd + 2));
      if (!header) {
        if (buffer.length > firstEnd + 2 && buffer[firstEnd + 2] !== '$')
          done(new Error('unexpected INFO reply'));
        return;
      }
      const bodyStart = firstEnd + 2 + header[0].length;
      if (buffer.length < bodyStart + Number(header[1])) return;
      const info = buffer.slice(bodyStart, bodyStart + Number(header[1]));
      const serverPid = /^process_id:(\d+)/m.exec(info)?.[1];
      if (pid !== undefined && serverPid !== String(pid)) {
        return done(new Error(`port ${port} is served by another redis-server (pid ${serverPid})`));
      }
      done();
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

class RedisProcess implements RunningRedis {
  readonly port: number;
  readonly dir: string;
  readonly url: string;
  private readonly ownsDir: boolean;
  private readonly durable: boolean;
  private readonly readyTimeoutMs: number;
  private child: ChildProcess | undefined;
  private output = '';
  private stopped = false;

  replicaOf: number | undefined;

  constructor(port: number, dir: string, ownsDir: boolean, durable: boolean, readyTimeoutMs: number) {
    this.port = port;
    this.dir = dir;
    this.url = `redis://127.0.0.1:${port}`;
    this.ownsDir = ownsDir;
    this.durable = durable;
    this.readyTimeoutMs = readyTimeoutMs;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  args(): string[] {
    return [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--daemonize',
      'no',
      '--save',
      '',
      '--appendonly',
      this.durable ? 'yes' : 'no',
      ...(this.durable ? ['--appendfsync', 'always'] : []),
      '--maxmemory-policy',
      'noeviction',
      ...(this.replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(this.replicaOf)]),
    ];
  }

  /** Spawns the server and resolves once it answers PING; rejects with its output otherwise. */
  async spawnAndWait(): Promise<void> {
    this.output = '';
    const child = spawn(BINARY, this.args(), { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    track(child);
    const collect = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);

    let failure: Error | undefined;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (error) => {
        failure = error;
        reject(error);
      });
      child.once('exit', (code, signal) => {
        failure = new Error(`exited with ${signal ?? `code ${code}`}`);
        reject(failure);
      });
    });
    failed.catch(() => undefined);

    const deadline = Date.now() + this.readyTimeoutMs;
    let lastError: unknown;
    try {
      while (true) {
        try {
          await Promise.race([probeRedis(this.port, child.pid), failed]);
          break;
        } catch (error) {
          if (failure) throw failure;
          lastError = error;
        }
        if (Date.now() >= deadline)
          throw new Error(`not ready within ${this.readyTimeoutMs} ms: ${String(lastError)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      // A forgotten instance must not keep the test runner alive; the exit hook still kills it.
      child.unref();
      (child.stdout as net.Socket | null)?.unref();
      (child.stderr as net.Socket | null)?.unref();
    } catch (error) {
      child.kill('SIGKILL');
      await exited(child);
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `redis-server on port ${this.port} (dir ${this.dir}) failed to start: ${reason}\n--- output ---\n${this.output.trim()}`,
      );
    }
  }

  private async terminate(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited(child);
      clearTimeout(timer);
    }
    this.child = undefined;
  }

  async stop(): Promise<void> {
    await this.terminate('SIGTERM');
    if (!this.stopped && this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
    this.stopped = true;
  }

  async kill(): Promise<void> {
    await this.terminate('SIGKILL');
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error('restart() after stop(): the instance and its dir are gone');
    await this.terminate('SIGTERM');
    await this.spawnAndWait();
  }
}

function isAddressInUse(error: unknown): boolean {
  return (
    error instanceof Error &&
    /Address already in use|bind: .*in use|Could not create server TCP/i.test(error.message)
  );
}

/** Starts a throwaway redis-server on 127.0.0.1 and resolves once it answers PING. */
export async function startRedis(options: RedisOptions = {}): Promise<RunningRedis> {
  const missing = missingRedisBinaries();
  if (missing.length > 0) throw new Error(`cannot start Redis; missing: ${missing.join(', ')}`);
  if (options.dir !== undefined && !statSync(options.dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`cannot start Redis: dir '${options.dir}' is not an existing directory`);
  }
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'scim-bridge-redis-'));
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  // A free port may be taken between the probe and redis binding it: retry (bounded) with a new one.
  const attempts = options.port === undefined ? START_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freeLoopbackPort());
    const redis = new RedisProcess(port, dir, ownsDir, options.durable === true, readyTimeoutMs);
    redis.replicaOf = options.replicaOf;
    try {
      await redis.spawnAndWait();
      return redis;
    } catch (error) {
      if (attempt < attempts && isAddressInUse(error)) continue;
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }
}

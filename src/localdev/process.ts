/**
 * What every throwaway directory server (slapd, Samba AD, 389-DS) needs from its supervisor: the
 * child is ours until stop(), it dies with this process however this process dies, its output tail
 * explains a failed start, and its temp dir is removed. One place for all three starters.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';

export function isAccessible(file: string, mode: number): boolean {
  try {
    accessSync(file, mode);
    return true;
  } catch {
    return false;
  }
}

export function isExecutable(file: string): boolean {
  return isAccessible(file, constants.X_OK);
}

/** Every supervised child not yet exited, with how to kill it; killed if this process exits. */
const liveChildren = new Map<ChildProcess, (signal: NodeJS.Signals) => void>();
/** Temp dirs not yet removed; removed if this process exits. */
const ownedDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: kill and rmSync are all we can do here.
  process.on('exit', () => {
    for (const kill of liveChildren.values()) kill('SIGKILL');
    for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** A temp dir that is removed when this process exits, unless removeOwnedDir() removed it before. */
export function ownDir(dir: string): void {
  installExitHook();
  ownedDirs.add(dir);
}

export async function removeOwnedDir(dir: string): Promise<void> {
  ownedDirs.delete(dir);
  await rm(dir, { recursive: true, force: true });
}

export interface SupervisedChild {
  child: ChildProcess;
  /** Exit code, signal name or spawn error message, once the child is gone. */
  exited: Promise<number | string | null>;
  /** The last 16 KiB of what the child wrote to its piped stdout/stderr. */
  output(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the child is gone. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Takes charge of a spawned child. `processGroup`: the child was spawned detached and leads a
 * process group of its own (Samba forks helpers); signals then go to the whole group.
 */
export function supervise(child: ChildProcess, options: { processGroup?: boolean } = {}): SupervisedChild {
  installExitHook();
  const kill = (signal: NodeJS.Signals): void => {
    if (options.processGroup && child.pid !== undefined) {
      try {
        process.kill(-child.pid, signal);
        return;
      } catch {
        // The group is gone or was never formed: signal the child itself.
      }
    }
    child.kill(signal);
  };
  let output = '';
  const keepTail = (chunk: string) => {
    output = (output + chunk).slice(-16_384);
  };
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', keepTail);
  }
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal));
    child.once('error', (error) => resolve(error.message));
  });
  let gone = false;
  liveChildren.set(child, kill);
  const watchdog =
    child.pid === undefined ? undefined : spawnWatchdog(options.processGroup ? -child.pid : child.pid);
  void exited.then(() => {
    gone = true;
    liveChildren.delete(child);
    watchdog?.kill('SIGKILL');
  });
  return {
    child,
    exited,
    output: () => output,
    async stop(graceMs) {
      watchdog?.kill('SIGKILL');
      if (gone) return;
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A `sh` that kills the child (or, for a negative id, its process group) when our stdin pipe
 * closes, i.e. when this process dies in a way that skips 'exit' handlers (SIGKILL of a test
 * worker). The child's normal end or stop() kills the watchdog first.
 */
function spawnWatchdog(target: number): ChildProcess {
  const watchdog = spawn('/bin/sh', ['-c', `read _ignored; kill -9 ${target} 2>/dev/null`], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.on('error', () => {});
  // Neither the watchdog nor its pipe may keep this process alive.
  watchdog.unref();
  (watchdog.stdin as { unref?: () => void } | null)?.unref?.();
  return watchdog;
}

/** Resolves true when something already accepts TCP on 127.0.0.1:port. */
export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (answers: boolean) => {
      socket.destroy();
      resolve(answers);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The supervised program exited while we waited for it to become ready. */
export class ExitedDuringStartError extends Error {
  constructor(program: string, status: number | string | null) {
    super(`${program} exited during start-up (status ${String(status)})`);
  }
}

/**
 * Runs `probe` until it succeeds, giving up at once if the program exits (bad config, port taken)
 * and after `timeoutMs` otherwise. Each probe is raced against the exit so a dead program is
 * noticed while a probe still waits for its own timeout.
 */
export async function waitUntilReady(options: {
  program: string;
  probe: () => Promise<void>;
  exited: Promise<number | string | null>;
  timeoutMs: number;
  intervalMs: number;
  /** What "ready" means, for the timeout message ("an LDAPS bind"). */
  readiness: string;
}): Promise<void> {
  const died = options.exited.then((status) => {
    throw new ExitedDuringStartError(options.program, status);
  });
  died.catch(() => {});
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await Promise.race([options.probe(), died]);
      return;
    } catch (error) {
      if (error instanceof ExitedDuringStartError) throw error;
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
  }
  throw new Error(
    `no ${options.readiness} within ${options.timeoutMs} ms (last probe: ${String(lastError)})`,
  );
}

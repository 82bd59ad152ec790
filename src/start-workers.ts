/**
 * `server.workers` (node:cluster): the primary process forks N workers that share the listening
 * port; each worker is a whole bridge (startBridge). The primary starts the local default's
 * throwaway slapd and Redis once and hands their addresses (and the generated token) to every
 * worker through the environment; it restarts a worker that dies, forwards SIGTERM/SIGINT (each
 * worker drains) and SIGHUP, and stops the local services when all workers are gone. Part of the
 * composition root, like main.ts. Nothing a request needs lives in one worker only: the workers
 * share what instances share (Redis and the directory, docs/architecture.md §Statelessness).
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { BridgeConfig } from './config/index.ts';
import type { LocalServices } from './localdev/stack.ts';
import { aggregateWorkerMetrics } from './observability/workers.ts';
import { startLocalDefaults } from './start-steps.ts';

/** A worker that dies is replaced after this pause (a crash loop costs at most one fork per pause). */
const RESTART_PAUSE_MS = 500;

/** Whether this process is the primary of a `server.workers` cluster (then it serves nothing itself). */
export function runsWorkers(config: BridgeConfig): boolean {
  return config.server.workers > 1 && cluster.isPrimary;
}

/**
 * What a worker must be told that the configuration does not say: the local default's services,
 * started once here, and one token for all (a token generated per worker would differ).
 */
export function workerEnvironment(
  config: BridgeConfig,
  local: LocalServices | undefined,
): Record<string, string> {
  const env: Record<string, string> = {};
  if (local?.slapd) {
    env.SCIM_BRIDGE_LDAP_URL = local.slapd.url;
    env.SCIM_BRIDGE_LDAP_BIND_DN = local.slapd.serviceDn;
    env.SCIM_BRIDGE_LDAP_BIND_PASSWORD = local.slapd.servicePassword;
  }
  if (local?.redis) env.SCIM_BRIDGE_REDIS_URL = local.redis.url;
  if (config.auth.tokens.length === 0) env.SCIM_BRIDGE_TOKEN = randomBytes(24).toString('base64url');
  return env;
}

export interface RunningPrimary {
  /** The generated token all workers accept (only when none was configured). */
  generatedToken?: string;
  local: LocalServices | undefined;
  /** Resolves with the shared port once the first worker listens. */
  listening: Promise<number>;
  stop(signal: NodeJS.Signals): Promise<void>;
}

/** Starts the local default once, forks the workers, and keeps their number up until stop(). */
export async function startPrimary(config: BridgeConfig, logger: Logger): Promise<RunningPrimary> {
  const local = await startLocalDefaults(config, undefined, logger);
  aggregateWorkerMetrics();
  const env = workerEnvironment(config, local);
  let stopping = false;
  const fork = (): Worker => {
    const worker = cluster.fork(env);
    logger.info({ workerPid: worker.process.pid, workerId: worker.id }, 'worker started');
    return worker;
  };
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.warn({ workerPid: worker.process.pid, code, signal }, 'worker died; starting a replacement');
    setTimeout(() => {
      if (!stopping) fork();
    }, RESTART_PAUSE_MS);
  });
  const listening = new Promise<number>((resolve) =>
    cluster.once('listening', (_worker, address) => resolve(address.port)),
  );
  for (let i = 0; i < config.server.workers; i++) fork();
  return {
    ...(env.SCIM_BRIDGE_TOKEN ? { generatedToken: env.SCIM_BRIDGE_TOKEN } : {}),
    local,
    listening,
    async stop(signal) {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise<void>((resolve) => {
              if (worker.isDead()) return resolve();
              worker.once('exit', () => resolve());
              worker.process.kill(signal);
            }),
        ),
      );
      await local?.stop();
    },
  };
}

/** SIGHUP (re-read the static tokens) goes to every worker. */
function forwardToWorkers(signal: NodeJS.Signals): void {
  for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
}

/** The primary as a process: prints where the workers listen, stops them all on SIGINT/SIGTERM. */
export async function runPrimary(config: BridgeConfig, logger: Logger): Promise<void> {
  const primary = await startPrimary(config, logger);
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping ${config.server.workers} workers\n`);
    primary
      .stop(signal)
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on('SIGHUP', () => forwardToWorkers('SIGHUP'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  const port = await primary.listening;
  const token = primary.generatedToken;
  const lines = [
    '',
    `SCIM base URL: http://${config.server.host}:${port}${config.server.basePath} (${config.server.workers} workers, primary pid ${process.pid})`,
    token
      ? `Bearer token:  ${token}   (generated for this run; set SCIM_BRIDGE_TOKEN to choose one)`
      : 'Bearer token:  as configured (auth.tokens / SCIM_BRIDGE_TOKEN)',
    primary.local?.slapd ? `Directory:     ${primary.local.slapd.url} (throwaway slapd, sample data)` : '',
    primary.local?.redis ? `Redis:         ${primary.local.redis.url} (throwaway)` : '',
    'Stop with Ctrl-C.',
    '',
  ].filter((l) => l !== '');
  process.stdout.write(`${lines.join('\n')}\n`);
}

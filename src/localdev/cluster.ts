/**
 * The topology of src/localdev/topology.ts as local processes (issue 18): a throwaway slapd and
 * redis-server, N bridge instances (`node src/main.ts`, each a child process on its own loopback
 * port, so each can be SIGKILLed and started again) and HAProxy in front with TLS. Used by
 * `npm run cluster`, the cluster tests and `npm run bench -- --cluster`. Dev/test infrastructure:
 * it starts the bridge as a program, never imports it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type RunningHaproxy, startHaproxy } from './haproxy.ts';
import { freeLoopbackPort } from './net.ts';
import { supervise } from './process.ts';
import { type RunningRedis, startRedis } from './redis.ts';
import { BASE_LDIF, type RunningSlapd, SAMPLE_LDIF, startSlapd } from './slapd.ts';
import { TOPOLOGY } from './topology.ts';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The project's own Node (>= 22.18 runs .ts directly); a test runner may run on an older one. */
const PROJECT_NODE = `${REPO_ROOT}node_modules/.bin/node`;
const NODE = existsSync(PROJECT_NODE) ? PROJECT_NODE : process.execPath;
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

export interface ClusterOptions {
  /** Bridge instances behind HAProxy (default 2). */
  instances?: number;
  token: string;
  /** LDIF after the base entries; default the sample directory. */
  seedLdif?: string[];
  /** SCIM_BRIDGE_* settings for every instance (events, timeouts). */
  env?: Record<string, string>;
  /** Redis with AOF and fsync on every write, as in docker-compose.yml (default true). */
  durableRedis?: boolean;
  /** The load balancer's port; default a free one. */
  port?: number;
  /** Receives each instance's output (stdout and stderr), tagged with its name. */
  onOutput?: (name: string, text: string) => void;
}

export interface BridgeInstance {
  readonly name: string;
  readonly port: number;
  /** http://127.0.0.1:port (plain HTTP, as HAProxy reaches it). */
  readonly url: string;
  /** PID of the running process; undefined while it is down. */
  pid(): number | undefined;
  /** Starts the process (when down) and waits until its /ready answers 200. */
  start(): Promise<void>;
  /** SIGKILL: no drain, no clean-up; in-flight requests die with it. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit (SIGKILL after a grace period). */
  stop(): Promise<void>;
}

export interface RunningCluster {
  /** https://127.0.0.1:port: HAProxy, terminating TLS. */
  url: string;
  /** The load balancer's self-signed certificate, for clients to trust. */
  certificate: string;
  instances: BridgeInstance[];
  slapd: RunningSlapd;
  redis: RunningRedis;
  haproxy: RunningHaproxy;
  stop(): Promise<void>;
}

/** Each instance's settings: the shared directory and Redis, behind one trusted proxy hop. */
function instanceEnv(options: ClusterOptions, slapd: RunningSlapd, redis: RunningRedis, port: number) {
  return {
    PATH: process.env.PATH ?? '',
    SCIM_BRIDGE_LDAP_URL: slapd.url,
    SCIM_BRIDGE_LDAP_BIND_DN: slapd.serviceDn,
    SCIM_BRIDGE_LDAP_BIND_PASSWORD: slapd.servicePassword,
    SCIM_BRIDGE_REDIS_URL: redis.url,
    SCIM_BRIDGE_TOKEN: options.token,
    SCIM_BRIDGE_SERVER_HOST: '127.0.0.1',
    SCIM_BRIDGE_SERVER_PORT: String(port),
    SCIM_BRIDGE_SERVER_TRUST_PROXY: JSON.stringify(TOPOLOGY.trustedProxies.local),
    SCIM_BRIDGE_MAPPINGS_WATCH: 'false',
    SCIM_BRIDGE_LOG_LEVEL: 'warn',
    ...options.env,
  };
}

async function waitForReady(url: string, exited: () => boolean, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`the bridge at ${url} exited during start-up:\n${output().slice(-3000)}`);
    const ok = await fetch(`${url}${TOPOLOGY.health.path}`, { signal: AbortSignal.timeout(2_000) })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `the bridge at ${url} was not ready within ${READY_TIMEOUT_MS} ms:\n${output().slice(-3000)}`,
  );
}

function bridgeInstance(name: string, port: number, env: Record<string, string>, options: ClusterOptions) {
  let running: ReturnType<typeof supervise> | undefined;
  let gone = true;
  const url = `http://127.0.0.1:${port}`;
  const instance: BridgeInstance = {
    name,
    port,
    url,
    pid: () => (gone ? undefined : running?.child.pid),
    async start() {
      if (!gone) return;
      const child: ChildProcess = spawn(NODE, [MAIN], {
        cwd: REPO_ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const supervised = supervise(child);
      running = supervised;
      gone = false;
      void supervised.exited.then(() => {
        if (running === supervised) gone = true;
      });
      if (options.onOutput) {
        child.stdout?.on('data', (chunk: string) => options.onOutput?.(name, chunk));
        child.stderr?.on('data', (chunk: string) => options.onOutput?.(name, chunk));
      }
      await waitForReady(url, () => gone, supervised.output);
    },
    async kill() {
      const current = running;
      if (!current || gone) return;
      current.child.kill('SIGKILL');
      await current.exited;
    },
    async stop() {
      if (!running || gone) return;
      await running.stop(STOP_GRACE_MS);
    },
  };
  return instance;
}

export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  const count = options.instances ?? 2;
  const [slapd, redis] = await Promise.all([
    startSlapd({ seedLdif: [BASE_LDIF, ...(options.seedLdif ?? [SAMPLE_LDIF])] }),
    startRedis({ durable: options.durableRedis ?? true }),
  ]);
  const instances: BridgeInstance[] = [];
  let haproxy: RunningHaproxy | undefined;
  const stopAll = async () => {
    await haproxy?.stop();
    await Promise.allSettled(instances.map((i) => i.stop()));
    await Promise.allSettled([slapd.stop(), redis.stop()]);
  };
  try {
    for (const name of TOPOLOGY.bridgeNames(count)) {
      const port = await freeLoopbackPort();
      instances.push(bridgeInstance(name, port, instanceEnv(options, slapd, redis, port), options));
    }
    // One at a time: the first instance settles the journal and creates the queues.
    for (const instance of instances) await instance.start();
    haproxy = await startHaproxy({
      backends: instances.map((i) => ({ name: i.name, address: `127.0.0.1:${i.port}` })),
      ...(options.port !== undefined ? { port: options.port } : {}),
    });
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    url: haproxy.url,
    certificate: haproxy.certificate,
    instances,
    slapd,
    redis,
    haproxy,
    stop: stopAll,
  };
}

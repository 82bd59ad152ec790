/**
 * The bridge in a process of its own, for benchmarks that report its memory: the load generator's
 * allocations (LDIF generation, HTTP and raw LDAP clients) stay out of the figure. Started by
 * startBridgeProcess(); prints one JSON line with what the parent needs, stops on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadConfig } from '../src/config/index.ts';
import { startBridge } from '../src/main.ts';
import { processCpuMicros, userReadAttributes } from './measure.ts';

export interface BridgeProcessInfo {
  baseUrl: string;
  ldapUrl: string;
  serviceDn: string;
  servicePassword: string;
  /** The attributes the bridge asks slapd for when it reads a User. */
  userReadAttributes: string[];
  /** The throwaway slapd's process (its CPU) and its rootpw (cn=admin,cn=config included). */
  slapdPid: number;
  rootPassword: string;
}

export interface BridgeProcess extends BridgeProcessInfo {
  pid: number;
  /** Resident set size now and its high-water mark since start (Linux /proc), in bytes. */
  memory(): { rss: number; peakRss: number };
  /** CPU time the process has used so far (user + system, Linux /proc), in microseconds. */
  cpuMicros(): number;
  stop(): Promise<void>;
}

/** Starts the local default bridge (throwaway slapd seeded from `seedLdif`) in a child process. */
export async function startBridgeProcess(token: string, seedLdif: string[]): Promise<BridgeProcess> {
  // BENCH_BRIDGE_NODE_ARGS: node options for the bridge process alone, e.g. to profile it under
  // load: BENCH_BRIDGE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/profiles".
  const nodeArgs = (process.env.BENCH_BRIDGE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, new URL(import.meta.url).pathname, ...seedLdif],
    {
      env: { ...process.env, SCIM_BRIDGE_TOKEN: token },
      // stdin stays open while this process lives: the bridge stops when it closes (see serve()).
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) =>
      reject(new Error(`the bridge process exited (${code}) before it was ready`)),
    );
  });
  const info = JSON.parse(line) as BridgeProcessInfo;
  const pid = child.pid!;
  return {
    ...info,
    pid,
    memory() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (field: string) =>
        Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
      return { rss: kb('VmRSS') * 1024, peakRss: kb('VmHWM') * 1024 };
    },
    cpuMicros: () => processCpuMicros(pid),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function serve(seedLdif: string[]): Promise<void> {
  // SCIM_BRIDGE_* settings of the benchmark's environment apply (e.g. SCIM_BRIDGE_LDAP_POOL_SIZE);
  // the port is free, and logs are off unless asked for.
  const settings = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name.startsWith('SCIM_BRIDGE_')),
  ) as Record<string, string>;
  const config = loadConfig({
    env: { SCIM_BRIDGE_LOG_LEVEL: 'silent', ...settings, SCIM_BRIDGE_SERVER_PORT: '0' },
  });
  const bridge = await startBridge({ config, seedLdif });
  const slapd = bridge.local?.slapd;
  if (!slapd) throw new Error('the benchmark needs the local default slapd');
  const info: BridgeProcessInfo = {
    baseUrl: bridge.baseUrl,
    ldapUrl: slapd.url,
    serviceDn: slapd.serviceDn,
    servicePassword: slapd.servicePassword,
    userReadAttributes: userReadAttributes(bridge),
    slapdPid: slapd.pid,
    rootPassword: slapd.rootPassword,
  };
  process.stdout.write(`${JSON.stringify(info)}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void bridge.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The benchmark died (an error, Ctrl-C): its end of stdin closes, and the bridge and its slapd
  // stop instead of running on as orphans.
  process.stdin.once('close', stop);
  process.stdin.resume();
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  serve(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

/**
 * Throwaway OpenLDAP slapd for tests, benchmarks and the local demo. Dev/test infrastructure only:
 * imports nothing from the other src layers. See /work/shared/notes/local-services.md.
 *
 * slapd runs in the foreground as our child, so we own its PID; the database is seeded with
 * slapadd before slapd starts (fast bulk load, no overlays run). `-d 32768` ("any") rather than
 * `-d 0`: still the foreground, but slapd then prints its errors (e.g. "bind(6) failed errno=98")
 * to stderr, which start-up failures quote; `-d 0` prints nothing at all.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from 'ldapts';
import { freeLoopbackPort } from './net.ts';
import { isExecutable, ownDir, removeOwnedDir, supervise, waitUntilReady } from './process.ts';

const execFileAsync = promisify(execFile);

const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';
const SLAPCAT = '/usr/sbin/slapcat';
const DEFAULT_SUFFIX = 'dc=example,dc=com';
/** Fixed service-account password; config/ldap/base.ldif holds its {SSHA} hash. */
const SERVICE_PASSWORD = 'svc-secret';
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;
/** Attempts when slapd loses the race for a port we picked (another process took it meanwhile). */
const PORT_ATTEMPTS = 3;

/** config/ldap, where the template, schemas and seed LDIF live. */
export const LDAP_CONFIG_DIR = fileURLToPath(new URL('../../config/ldap/', import.meta.url));
/** Suffix entry, ou=People, ou=Groups and cn=svc (written for dc=example,dc=com). */
export const BASE_LDIF = path.join(LDAP_CONFIG_DIR, 'base.ldif');
/** Five users and two groups (written for dc=example,dc=com); load after BASE_LDIF. */
export const SAMPLE_LDIF = path.join(LDAP_CONFIG_DIR, 'sample.ldif');

export interface SlapdOptions {
  /** Default dc=example,dc=com. The shipped LDIF files assume the default. */
  suffix?: string;
  /**
   * LDIF files loaded in order with slapadd before slapd starts (also for 100k-entry benchmarks).
   * Default: [BASE_LDIF] for the default suffix, none for another. Skipped when dataDir already
   * holds a database.
   */
  seedLdif?: string[];
  /** Default: a free loopback port. */
  port?: number;
  /** Default: a fresh temp dir, removed on stop(). A given dir is left in place. */
  dataDir?: string;
  /** Default false: the database skips fsync (dbnosync), several times faster for tests. */
  durable?: boolean;
  /**
   * PEM certificate and key: enables StartTLS on the ldap:// port and adds an ldaps:// listener on
   * a second free port.
   */
  tls?: { certificateFile: string; keyFile: string };
  /** A replication provider (RFC 4533): loads syncprov so that replicas (`replicaOf`) can follow it. */
  provider?: boolean;
  /**
   * A read-only replica of a provider: syncrepl refreshAndPersist as the provider's root, and
   * writes answered with a referral to it (updateref). Starts with an empty database (seedLdif
   * defaults to none) that the first refresh fills, entryUUIDs included.
   */
  replicaOf?: { url: string; rootDn: string; rootPassword: string };
}

export interface RunningSlapd {
  url: string;
  port: number;
  /** Only with options.tls. */
  ldapsUrl?: string;
  suffix: string;
  rootDn: string;
  rootPassword: string;
  serviceDn: string;
  servicePassword: string;
  dataDir: string;
  pid: number;
  stop(): Promise<void>;
  /** Same dir and port: stops slapd, starts it again and waits until it answers. */
  restart(): Promise<void>;
  /** The database as LDIF (slapcat of the suffix): a backup, taken while slapd runs. Local binaries only. */
  backup?(ldifPath: string): Promise<void>;
  /**
   * A restore from a backup, as an admin does it: stops slapd, replaces the database with the
   * LDIF (slapadd) and starts slapd again. The change log (cn=accesslog) starts empty, as after
   * restoring only the data.
   */
  restore?(ldifPath: string): Promise<void>;
}

/** Binaries the harness needs that are not installed, each with the package that provides it. */
export function missingLdapBinaries(): string[] {
  const needed: Array<[string, string]> = [
    [SLAPD, 'slapd (apt-get install slapd ldap-utils)'],
    [SLAPADD, 'slapadd (apt-get install slapd)'],
  ];
  return needed.filter(([file]) => !isExecutable(file)).map(([, hint]) => hint);
}

export async function startSlapd(options: SlapdOptions = {}): Promise<RunningSlapd> {
  const missing = missingLdapBinaries();
  if (missing.length > 0) throw new Error(`OpenLDAP binaries missing: ${missing.join(', ')}`);

  const suffix = options.suffix ?? DEFAULT_SUFFIX;
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'slapd-')));
  if (ownsDataDir) ownDir(dataDir);
  const rootPassword = randomBytes(12).toString('hex');
  const serviceDn = `cn=svc,${suffix}`;
  const rootDn = `cn=admin,${suffix}`;
  const confPath = path.join(dataDir, 'slapd.conf');
  const giveUp = async (error: unknown): Promise<never> => {
    if (ownsDataDir) await removeOwnedDir(dataDir);
    throw error;
  };

  await prepareDatabase(confPath, options, {
    dataDir,
    suffix,
    rootPassword,
    serviceDn,
    durable: options.durable === true,
    ...(options.tls ? { tls: options.tls } : {}),
  }).catch(giveUp);
  const launched = await launchOnFreePorts(options, confPath, rootDn, rootPassword).catch(giveUp);
  const { port, ldapsPort } = launched;

  let current: SlapdProcess = launched.process;
  let stopped = false;
  const relaunch = async (what: string, meanwhile?: () => Promise<void>) => {
    if (stopped) throw new Error(`slapd was stopped; ${what}() needs a running instance`);
    await current.stop();
    await meanwhile?.();
    current = await launch(confPath, listenerUrls(port, ldapsPort), port, rootDn, rootPassword);
    running.pid = current.child.pid ?? -1;
  };
  const running: RunningSlapd = {
    url: `ldap://127.0.0.1:${port}/`,
    port,
    ...(ldapsPort ? { ldapsUrl: `ldaps://127.0.0.1:${ldapsPort}/` } : {}),
    suffix,
    rootDn,
    rootPassword,
    serviceDn,
    servicePassword: SERVICE_PASSWORD,
    dataDir,
    pid: current.child.pid ?? -1,
    async stop() {
      if (stopped) return;
      stopped = true;
      await current.stop();
      if (ownsDataDir) await removeOwnedDir(dataDir);
    },
    restart: () => relaunch('restart'),
    backup: (ldifPath) => runTool(SLAPCAT, ['-f', confPath, '-b', suffix, '-l', ldifPath], ldifPath),
    restore: (ldifPath) => relaunch('restore', () => reloadDatabase(confPath, dataDir, ldifPath)),
  };
  return running;
}

/** slapd.conf written; a fresh database seeded (an existing one, as after a restart, kept). */
async function prepareDatabase(confPath: string, options: SlapdOptions, values: ConfigValues): Promise<void> {
  const dbDir = path.join(values.dataDir, 'db');
  const freshDatabase = !existsSync(dbDir) || readdirSync(dbDir).length === 0;
  await mkdir(dbDir, { recursive: true });
  // The change feed's log (cn=accesslog), see config/ldap/slapd.conf.template.
  await mkdir(path.join(values.dataDir, 'accesslog'), { recursive: true });
  await writeConfig(confPath, { ...values, replication: replicationLines(options, values.suffix) });
  if (freshDatabase) {
    // base.ldif is written for the default suffix; another suffix brings its own seed files.
    const defaultSeed = values.suffix === DEFAULT_SUFFIX && !options.replicaOf ? [BASE_LDIF] : [];
    for (const ldif of options.seedLdif ?? defaultSeed) await slapadd(confPath, ldif);
  }
}

/** slapd.conf lines for a provider (syncprov) or a replica (syncrepl, updateref); see SlapdOptions. */
function replicationLines(options: SlapdOptions, suffix: string): string {
  const lines: string[] = [];
  if (options.provider) lines.push('overlay   syncprov', 'syncprov-checkpoint 100 1');
  const provider = options.replicaOf;
  if (provider) {
    // retry "1 +": reconnect every second, forever, while the provider is away.
    lines.push(
      `syncrepl  rid=001 provider=${provider.url.replace(/\/$/, '')} bindmethod=simple`,
      `  binddn="${provider.rootDn}" credentials=${provider.rootPassword}`,
      `  searchbase="${suffix}" type=refreshAndPersist retry="1 +" timeout=1`,
      `updateref ${provider.url.replace(/\/$/, '')}`,
    );
  }
  return lines.length > 0 ? lines.join('\n') : '# no replication';
}

function listenerUrls(port: number, ldapsPort: number | undefined): string[] {
  return [`ldap://127.0.0.1:${port}/`, ...(ldapsPort ? [`ldaps://127.0.0.1:${ldapsPort}/`] : [])];
}

/** Starts slapd on the given port, or on free ones (picked again when one was taken meanwhile). */
async function launchOnFreePorts(
  options: SlapdOptions,
  confPath: string,
  rootDn: string,
  rootPassword: string,
): Promise<{ process: SlapdProcess; port: number; ldapsPort: number | undefined }> {
  let port = options.port ?? (await freeLoopbackPort());
  let ldapsPort = options.tls ? await freeLoopbackPort() : undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      const process_ = await launch(confPath, listenerUrls(port, ldapsPort), port, rootDn, rootPassword);
      return { process: process_, port, ldapsPort };
    } catch (error) {
      // A port we picked may have been taken since; a config error fails again in milliseconds.
      const mayRetryOtherPort =
        options.port === undefined && attempt < PORT_ATTEMPTS && error instanceof SlapdStartError;
      if (!mayRetryOtherPort) throw error;
      port = await freeLoopbackPort();
      if (ldapsPort) ldapsPort = await freeLoopbackPort();
    }
  }
}

interface ConfigValues {
  dataDir: string;
  suffix: string;
  rootPassword: string;
  serviceDn: string;
  durable: boolean;
  tls?: { certificateFile: string; keyFile: string };
  replication?: string;
}

async function writeConfig(confPath: string, values: ConfigValues): Promise<void> {
  const template = await readFile(path.join(LDAP_CONFIG_DIR, 'slapd.conf.template'), 'utf8');
  const substitutions: Record<string, string> = {
    '@DIR@': values.dataDir,
    '@CONFIG@': LDAP_CONFIG_DIR.replace(/\/$/, ''),
    '@SUFFIX@': values.suffix,
    '@ROOTPW@': values.rootPassword,
    '@SVCDN@': values.serviceDn,
    '@DBNOSYNC@': values.durable ? '# durable: fsync on every commit' : 'dbnosync',
    '@TLS@': values.tls
      ? `TLSCertificateFile ${values.tls.certificateFile}\nTLSCertificateKeyFile ${values.tls.keyFile}`
      : '# no TLS',
    '@REPLICATION@': values.replication ?? '# no replication',
  };
  const rendered = template.replace(/@[A-Z]+@/g, (placeholder) => {
    const value = substitutions[placeholder];
    if (value === undefined) throw new Error(`slapd.conf.template: unknown placeholder ${placeholder}`);
    return value;
  });
  await writeFile(confPath, rendered, { mode: 0o600 });
}

/** The database and the change log emptied, then the LDIF loaded (slapd stopped meanwhile). */
async function reloadDatabase(confPath: string, dataDir: string, ldifPath: string): Promise<void> {
  for (const dir of ['db', 'accesslog']) {
    await rm(path.join(dataDir, dir), { recursive: true, force: true });
    await mkdir(path.join(dataDir, dir), { recursive: true });
  }
  await slapadd(confPath, ldifPath);
}

async function slapadd(confPath: string, ldifPath: string): Promise<void> {
  // -q: skip consistency checks, the fast path for bulk loads of known-good LDIF.
  await runTool(SLAPADD, ['-q', '-f', confPath, '-l', ldifPath], ldifPath);
}

async function runTool(program: string, args: string[], ldifPath: string): Promise<void> {
  try {
    await execFileAsync(program, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${path.basename(program)} of ${ldifPath} failed: ${stderr.trim() || String(error)}`, {
      cause: error,
    });
  }
}

interface SlapdProcess {
  child: ChildProcess;
  stop(): Promise<void>;
}

class SlapdStartError extends Error {
  override readonly name = 'SlapdStartError';
  readonly stderr: string;
  constructor(message: string, stderr: string, cause?: unknown) {
    super(`${message}\n--- slapd stderr ---\n${stderr.trim() || '(empty)'}`, { cause });
    this.stderr = stderr;
  }
}

/** Spawns slapd on the listeners and resolves once it answers a real LDAP operation on `port`. */
async function launch(
  confPath: string,
  listenerUrls: string[],
  port: number,
  rootDn: string,
  rootPassword: string,
): Promise<SlapdProcess> {
  const child = spawn(SLAPD, ['-f', confPath, '-h', listenerUrls.join(' '), '-d', '32768'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const supervised = supervise(child);
  const stop = () => supervised.stop(STOP_GRACE_MS);
  try {
    await waitUntilReady({
      program: 'slapd',
      probe: () => probe(port, rootDn, rootPassword),
      exited: supervised.exited,
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 15,
      readiness: 'answer',
    });
  } catch (error) {
    await stop();
    const cause = error instanceof Error ? error : new Error(String(error));
    throw new SlapdStartError(
      `slapd did not start on port ${port}: ${cause.message}`,
      supervised.output(),
      cause,
    );
  }
  return { child, stop };
}

/**
 * slapd accepts TCP before its database is open, so readiness is a real LDAP operation. The bind
 * with this instance's random root password also proves that the answer comes from OUR slapd and
 * not from another process that holds the port.
 */
async function probe(port: number, rootDn: string, rootPassword: string): Promise<void> {
  const client = new Client({ url: `ldap://127.0.0.1:${port}`, connectTimeout: 500, timeout: 1_000 });
  try {
    await client.bind(rootDn, rootPassword);
    const { searchEntries } = await client.search('', { scope: 'base', attributes: ['namingContexts'] });
    if (searchEntries.length !== 1) throw new Error('rootDSE not readable yet');
  } finally {
    await client.unbind().catch(() => {});
  }
}

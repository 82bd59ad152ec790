/**
 * Throwaway Samba AD DC, the test stand-in for Active Directory. Dev/test infrastructure only:
 * imports nothing from the other src layers. See /work/shared/notes/local-services.md (Samba AD).
 *
 * Unlike slapd, Samba listens on the fixed ports 389/636/88 of the loopback interface (there is no
 * port option for its LDAP server), so it needs root and only one instance can run per machine.
 * Provisioning a fresh domain into a temp dir takes ~5-7 s, the first start ~2-4 s (it generates
 * its self-signed TLS certificate then). Simple binds over plain ldap:// are refused
 * (strongAuthRequired): use `ldapsUrl` with `caFile` and `serverName`.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'ldapts';
import { isExecutable, ownDir, portAnswers, removeOwnedDir, supervise, waitUntilReady } from './process.ts';

const execFileAsync = promisify(execFile);

const SAMBA = '/usr/sbin/samba';
const SAMBA_TOOL = '/usr/bin/samba-tool';
const REALM = 'EXAMPLE.TEST';
const DOMAIN = 'EXAMPLE';
const BASE_DN = 'DC=example,DC=test';
const SERVER_NAME = 'DC1.example.test';
const LDAP_PORT = 389;
const LDAPS_PORT = 636;
const KERBEROS_PORT = 88;
/** Samba's LDAP server and KDC have no port option: one instance per address. */
const FIXED_PORTS = [LDAP_PORT, LDAPS_PORT, KERBEROS_PORT];
const PROVISION_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

export interface RunningSambaAd {
  /** ldaps://127.0.0.1:636 */
  ldapsUrl: string;
  /** Samba's self-signed CA (generated at first start): D/private/tls/ca.pem. */
  caFile: string;
  /** The name in the server certificate: DC1.example.test. */
  serverName: string;
  realm: string;
  /** DC=example,DC=test */
  baseDn: string;
  /** CN=Administrator,CN=Users,DC=example,DC=test */
  adminDn: string;
  adminPassword: string;
  dataDir: string;
  pid: number;
  stop(): Promise<void>;
}

/** Binaries (and privileges) the harness needs that are missing, each with a hint. */
export function missingSambaBinaries(): string[] {
  const missing: string[] = [];
  if (!isExecutable(SAMBA)) missing.push('samba (apt-get install samba)');
  if (!isExecutable(SAMBA_TOOL)) missing.push('samba-tool (apt-get install samba)');
  if (process.getuid?.() !== 0) missing.push('root privileges (Samba binds the fixed ports 389/636/88)');
  return missing;
}

/**
 * Everything startSambaAd() needs that is missing: the binaries and root, and the fixed ports,
 * free on 127.0.0.1 (taken by another Samba or LDAP server, they make a start fail).
 */
export async function missingSambaPrerequisites(): Promise<string[]> {
  const missing = missingSambaBinaries();
  for (const port of FIXED_PORTS) {
    if (await portAnswers(port)) {
      missing.push(`a free 127.0.0.1:${port} (in use by another process: another Samba or LDAP server?)`);
    }
  }
  return missing;
}

/**
 * Provisions a fresh domain EXAMPLE.TEST into a temp dir, starts `samba -i -M single` as our child
 * and resolves once an LDAPS simple bind as Administrator succeeds.
 */
export async function startSambaAd(): Promise<RunningSambaAd> {
  const missing = await missingSambaPrerequisites();
  if (missing.length > 0) throw new Error(`Samba AD DC cannot start, missing: ${missing.join(', ')}`);

  const dataDir = await mkdtemp(path.join(tmpdir(), 'samba-ad-'));
  ownDir(dataDir);
  // Meets AD's default complexity rules too (upper, lower, digit, symbol; 8+ characters).
  const adminPassword = `Aa1!${randomBytes(12).toString('hex')}`;
  const confFile = path.join(dataDir, 'etc', 'smb.conf');
  try {
    await provision(dataDir, confFile, adminPassword);
  } catch (error) {
    await removeOwnedDir(dataDir);
    throw error;
  }
  return launch(dataDir, confFile, adminPassword);
}

/**
 * The domain's files in `targetDir`, with password ages 0 and complexity off so that
 * password-change tests can run back to back.
 */
async function provision(targetDir: string, confFile: string, adminPassword: string): Promise<void> {
  await runTool([
    'domain',
    'provision',
    `--targetdir=${targetDir}`,
    `--realm=${REALM}`,
    `--domain=${DOMAIN}`,
    '--server-role=dc',
    '--dns-backend=NONE',
    `--adminpass=${adminPassword}`,
    '--host-name=dc1',
    '--use-rfc2307',
    '--option=interfaces=lo',
    '--option=bind interfaces only=yes',
    '--option=server services=ldap, cldap, kdc, rpc',
  ]);
  await runTool([
    'domain',
    'passwordsettings',
    'set',
    '-s',
    confFile,
    '--min-pwd-age=0',
    '--max-pwd-age=0',
    '--complexity=off',
  ]);
}

/** Starts the provisioned domain's samba as our child; stops it and removes the dir if it fails. */
async function launch(dataDir: string, confFile: string, adminPassword: string): Promise<RunningSambaAd> {
  const child = spawn(SAMBA, ['-s', confFile, '-i', '-M', 'single', '--no-process-group'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // Samba forks helpers into the process group it leads (detached): signals go to the group.
  const supervised = supervise(child, { processGroup: true });
  const running: RunningSambaAd = {
    ldapsUrl: `ldaps://127.0.0.1:${LDAPS_PORT}`,
    caFile: path.join(dataDir, 'private', 'tls', 'ca.pem'),
    serverName: SERVER_NAME,
    realm: REALM,
    baseDn: BASE_DN,
    adminDn: `CN=Administrator,CN=Users,${BASE_DN}`,
    adminPassword,
    dataDir,
    pid: child.pid ?? -1,
    async stop() {
      await supervised.stop(STOP_GRACE_MS);
      await removeOwnedDir(dataDir);
    },
  };

  try {
    // Ready = a simple bind over LDAPS with this domain's random admin password: proves the TLS
    // certificate exists (Samba generates it at first start) and that OUR samba answers.
    await waitUntilReady({
      program: 'samba',
      probe: () => probe(running),
      exited: supervised.exited,
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
      readiness: 'LDAPS bind',
    });
  } catch (error) {
    await running.stop();
    throw new Error(
      `Samba AD DC did not start: ${error instanceof Error ? error.message : String(error)}\n--- samba output ---\n${supervised.output().trim() || '(empty)'}`,
      { cause: error },
    );
  }
  return running;
}

async function runTool(args: string[]): Promise<void> {
  try {
    await execFileAsync(SAMBA_TOOL, args, { maxBuffer: 16 * 1024 * 1024, timeout: PROVISION_TIMEOUT_MS });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`samba-tool ${args.slice(0, 2).join(' ')} failed: ${(stderr || stdout).trim()}`, {
      cause: error,
    });
  }
}

async function probe(running: RunningSambaAd): Promise<void> {
  const ca = await readFile(running.caFile);
  const client = new Client({
    url: running.ldapsUrl,
    connectTimeout: 1_000,
    timeout: 2_000,
    tlsOptions: { ca, servername: running.serverName },
  });
  try {
    await client.bind(running.adminDn, running.adminPassword);
  } finally {
    await client.unbind().catch(() => {});
  }
}

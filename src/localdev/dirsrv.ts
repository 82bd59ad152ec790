/**
 * Throwaway 389 Directory Server (Debian package `389-ds-base`, 2.3.1 on Debian 12) for the tests
 * of the `mappings/389ds` preset. Dev/test infrastructure only: imports nothing from the other src
 * layers. Counterpart of slapd.ts and samba.ts.
 *
 * What was learned making it run here (Debian 12, root, no systemd, 2 shared cores):
 * - `apt-get install -y 389-ds-base` pulls in python3-lib389 and a lot of Python (matplotlib,
 *   gdal...): ~50 s after `apt-get update`. No system instance is created or started.
 * - `dscreate from-file x.inf` ignores `systemd = False` of the .inf when it starts the new
 *   instance: lib389 decides from /usr/share/dirsrv/inf/defaults.inf (`with_systemd = 1`) and runs
 *   `systemctl start dirsrv@x`, which fails without systemd ("System has not been booted with
 *   systemd"). Workaround: a copy of defaults.inf with `with_systemd = 0` under
 *   $PREFIX/share/dirsrv/inf/ and `PREFIX=... dscreate from-file` (5.6 s with start = False,
 *   self_sign_cert = False). But dscreate writes to /etc/dirsrv/slapd-NAME, /var/lib/dirsrv,
 *   /var/log/dirsrv and /run/lock/dirsrv (one instance per name, root only): not used here.
 * - Used instead (no Python at all, everything in one temp dir, any number of instances on free
 *   ports): render /usr/share/dirsrv/data/template-dse.ldif (its %placeholders% are what dscreate
 *   fills in) into DIR/dse.ldif, then `ns-slapd -D DIR -i DIR/run/pid -d 0`. `-d 0` keeps it in the
 *   foreground as our child; it writes nothing to stdout/stderr once its logs are open (see
 *   DIR/log/errors). First answer after ~0.8-1 s; the backend, suffix, OUs and service account are
 *   then added over LDAP as cn=Directory Manager (~0.1 s). Whole start ~1-1.5 s. SIGTERM shutdown
 *   takes ~1.5-2 s (the database is checkpointed).
 * - Pitfalls: nsslapd-rootpw in dse.ldif must be hashed ({SSHA512} computed here; clear text fails
 *   with "password scheme mismatch"). ns-slapd started as root switches to nsslapd-localuser
 *   (`dirsrv`, created by the package), so the temp dir must belong to that user. Without
 *   nsslapd-listenhost it listens on every interface (*:port): set to 127.0.0.1. A taken port makes
 *   ns-slapd exit 1 at once without a word anywhere (bind() fails before its logs open). Enabling
 *   the MemberOf plug-in over LDAP needs a restart: it is switched on in dse.ldif before the start.
 *   The access log is buffered by default (set unbuffered here). `ldapsearch -E vlv=...` is
 *   interactive and loops forever on a closed stdin: never script it.
 * - The server (verified): rootDSE offers simple paged results, server-side sort, VLV (also
 *   without a VLV index, for a non-root account; the access log then notes "Partially Unindexed
 *   Filter"), pre/post-read; NOT the assertion control (RFC 4528): a critical assertion fails with
 *   unavailableCriticalExtension (12), so the bridge refuses If-Match writes like on AD.
 *   `nsUniqueId` looks like `8544561d-e73f11f1-beacaffa-a52b5b27` (not an RFC 4122 UUID).
 *   modifyTimestamp has 1 s resolution. uid and cn sort without naming an ordering rule.
 *   userPassword is stored as a {PBKDF2...} hash. nsAccountLock: TRUE refuses the user's binds
 *   ("Account inactivated"). An ACI with targetattr="*" covers nsAccountLock, nsUniqueId,
 *   modifyTimestamp and memberOf.
 * - MemberOf plug-in: adds objectClass nsMemberOf to members by itself; on a modrdn of a member it
 *   rewrites the `member` values of the member's groups, on a delete it removes them (no
 *   referential-integrity plug-in needed); groupOfNames may be empty. By default it copies NESTED
 *   memberships into memberOf, which breaks the preset's `reverse: memberOf` (see
 *   mappings/389ds/groups.yaml): started here with memberOfSkipNested: on. Even so, 2.3.1 still
 *   copies nested memberships when a group that contains groups is renamed (a memberOf fixup task
 *   does not remove them; deleting the group does).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants, readFileSync } from 'node:fs';
import { chown, copyFile, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { freeLoopbackPort } from './net.ts';
import {
  ExitedDuringStartError,
  isAccessible,
  ownDir,
  portAnswers,
  removeOwnedDir,
  supervise,
  waitUntilReady,
} from './process.ts';

const NS_SLAPD = '/usr/sbin/ns-slapd';
const TEMPLATE_DSE = '/usr/share/dirsrv/data/template-dse.ldif';
/** The system schema (00core.ldif ...) is read from here by ns-slapd itself. */
const SYSTEM_SCHEMA_DIR = '/usr/share/dirsrv/schema';
/** ns-slapd started as root drops to this user (created by the Debian package). */
const SERVICE_USER = 'dirsrv';
const SUFFIX = 'dc=example,dc=com';
const ROOT_DN = 'cn=Directory Manager';
const SERVICE_DN = `uid=scim-bridge,ou=Services,${SUFFIX}`;
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const PORT_ATTEMPTS = 3;

export interface RunningDirsrv {
  /** ldap://127.0.0.1:PORT */
  url: string;
  port: number;
  /** dc=example,dc=com, holding ou=People, ou=Groups and ou=Services. */
  suffix: string;
  peopleDn: string;
  groupsDn: string;
  /** cn=Directory Manager: bypasses ACIs and limits; for test set-up and checks only. */
  rootDn: string;
  rootPassword: string;
  /** uid=scim-bridge,ou=Services,dc=example,dc=com, allowed to read and write below the suffix. */
  serviceDn: string;
  servicePassword: string;
  dataDir: string;
  /** DIR/log/access, unbuffered: one line per operation, with its SORT/VLV/paged controls. */
  accessLog: string;
  pid: number;
  /** Milliseconds from the spawn of ns-slapd until the suffix and service account existed. */
  startMs: number;
  stop(): Promise<void>;
}

/** What must be installed (or is missing) to start a 389-DS here, each with a hint. */
export function missingDirsrvBinaries(): string[] {
  const hint = 'apt-get install 389-ds-base';
  const missing: string[] = [];
  if (!isAccessible(NS_SLAPD, constants.X_OK)) missing.push(`ns-slapd (${hint})`);
  if (!isAccessible(TEMPLATE_DSE, constants.R_OK)) missing.push(`${TEMPLATE_DSE} (${hint})`);
  if (!isAccessible(SYSTEM_SCHEMA_DIR, constants.R_OK)) missing.push(`${SYSTEM_SCHEMA_DIR} (${hint})`);
  if (process.getuid?.() === 0 && serviceAccount() === undefined) {
    missing.push(`the system user ${SERVICE_USER} that ns-slapd runs as under root (${hint})`);
  }
  return missing;
}

/** uid/gid of the `dirsrv` user from /etc/passwd. */
function serviceAccount(): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , uid, gid] = line.split(':');
      if (name === SERVICE_USER && uid && gid) return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // No /etc/passwd: reported as missing.
  }
  return undefined;
}

export interface DirsrvOptions {
  /**
   * The Retro Changelog plug-in on (`cn=changelog`, read by the change feed, src/feed/dirsrv/),
   * each record carrying the entry's nsUniqueId as targetUniqueId, trimmed after `changelogMaxAge`
   * (389's duration syntax, e.g. "2d", "30s"; default "2d"), checked every `changelogTrimIntervalS`
   * seconds (389's default 300; trimming keeps the newest record). Deleted entries are logged whole
   * (their object classes name their resource type; without nsslapd-log-deleted a delete record has
   * no changes), and the service account may read cn=changelog (the plug-in's own ACI shows others
   * only cn=changelog itself, no records). Verified on 2.3.1: rootDSE firstchangenumber /
   * lastchangenumber / changeLog readable by anyone; changes end with a NUL byte.
   */
  retroChangelog?: boolean;
  changelogMaxAge?: string;
  changelogTrimIntervalS?: number;
}

/**
 * Starts a fresh 389-DS in a temp dir on a free loopback port: suffix dc=example,dc=com with
 * ou=People, ou=Groups, ou=Services, the MemberOf plug-in on, and a service account whose ACI lets
 * it read and write everything below the suffix, operational nsAccountLock included. The MemberOf
 * plug-in runs with memberOfSkipNested: on, as mappings/389ds/groups.yaml requires.
 */
export async function startDirsrv(options: DirsrvOptions = {}): Promise<RunningDirsrv> {
  const missing = missingDirsrvBinaries();
  if (missing.length > 0)
    throw new Error(`389 Directory Server cannot start, missing: ${missing.join(', ')}`);

  const rootPassword = randomBytes(12).toString('hex');
  const servicePassword = randomBytes(12).toString('hex');
  let lastError: unknown;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = await freeLoopbackPort();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'dirsrv-'));
    ownDir(dataDir);
    try {
      await prepareInstance(dataDir, port, rootPassword, options);
      const started = Date.now();
      const instance = await launch(dataDir, port, rootPassword);
      try {
        await populate(port, rootPassword, servicePassword, options.retroChangelog === true);
      } catch (error) {
        await instance.stop();
        throw error;
      }
      const running: RunningDirsrv = {
        url: `ldap://127.0.0.1:${port}`,
        port,
        suffix: SUFFIX,
        peopleDn: `ou=People,${SUFFIX}`,
        groupsDn: `ou=Groups,${SUFFIX}`,
        rootDn: ROOT_DN,
        rootPassword,
        serviceDn: SERVICE_DN,
        servicePassword,
        dataDir,
        accessLog: path.join(dataDir, 'log', 'access'),
        pid: instance.child.pid ?? -1,
        startMs: Date.now() - started,
        async stop() {
          await instance.stop();
          await removeOwnedDir(dataDir);
        },
      };
      return running;
    } catch (error) {
      await removeOwnedDir(dataDir);
      lastError = error;
      // Another process may have taken the port we picked; anything else fails again the same way.
      if (!(error instanceof DirsrvStartError) || !error.portTaken) throw error;
    }
  }
  throw lastError;
}

/** `{SSHA512}` = base64(SHA-512(password + salt) + salt): a scheme ns-slapd accepts for rootpw. */
function ssha512(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha512').update(password).update(salt).digest();
  return `{SSHA512}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/** Writes DIR/dse.ldif and the directories it names, owned by the user ns-slapd will run as. */
async function prepareInstance(
  dataDir: string,
  port: number,
  rootPassword: string,
  options: DirsrvOptions,
): Promise<void> {
  const sub = (name: string) => path.join(dataDir, name);
  for (const dir of ['schema', 'lock', 'tmp', 'run', 'log', 'db', 'bak', 'ldif']) await mkdir(sub(dir));
  // The instance schema dir holds only the user-defined schema (99user.ldif); may start empty.
  await writeFile(sub('schema/99user.ldif'), 'dn: cn=schema\n');
  for (const file of ['slapd-collations.conf', 'certmap.conf']) {
    await copyFile(path.join('/etc/dirsrv/config', file), sub(file)).catch(() => {});
  }
  const values: Record<string, string> = {
    schema_dir: sub('schema'),
    lock_dir: sub('lock'),
    tmp_dir: sub('tmp'),
    cert_dir: dataDir,
    ldif_dir: sub('ldif'),
    bak_dir: sub('bak'),
    run_dir: sub('run'),
    inst_dir: dataDir,
    log_dir: sub('log'),
    config_dir: dataDir,
    db_dir: sub('db'),
    db_home_dir: sub('db'),
    db_lib: 'bdb',
    fqdn: 'localhost',
    ds_port: String(port),
    ds_user: process.getuid?.() === 0 ? SERVICE_USER : userInfo().username,
    rootdn: ROOT_DN,
    ds_passwd: ssha512(rootPassword),
    ds_suffix: SUFFIX,
    ldapi_enabled: 'off',
    ldapi: sub('run/slapd.socket'),
    ldapi_autobind: 'off',
  };
  const template = await readFile(TEMPLATE_DSE, 'utf8');
  let dse = template.replace(/%([a-z_]+)%/g, (placeholder, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${TEMPLATE_DSE}: unknown placeholder ${placeholder}`);
    return value;
  });
  // Loopback only (the template listens on every interface); an unbuffered access log, so tests
  // can read which controls (SORT, VLV, paged) a search carried right after it ran.
  dse = dse.replace(
    /^nsslapd-port: .*$/m,
    (line) => `${line}\nnsslapd-listenhost: 127.0.0.1\nnsslapd-accesslog-logbuffering: off`,
  );
  await writeFile(sub('dse.ldif'), withPlugins(dse, options), { mode: 0o600 });

  if (process.getuid?.() === 0) {
    const owner = serviceAccount();
    if (!owner) throw new Error(`no system user ${SERVICE_USER} (apt-get install 389-ds-base)`);
    await chownTree(dataDir, owner.uid, owner.gid);
  }
}

/** The plug-ins switched on before the start (enabling them over LDAP needs a restart). */
function withPlugins(dse: string, options: DirsrvOptions): string {
  const withMemberOf = enablePlugin(dse, 'MemberOf Plugin', ['memberOfSkipNested: on']);
  if (!options.retroChangelog) return withMemberOf;
  // What a 389-DS admin enables for the change feed (README §Change feed): the records name the
  // entry's nsUniqueId (the preset's SCIM id), deletes carry the old entry, old records go.
  return enablePlugin(withMemberOf, 'Retro Changelog Plugin', [
    'nsslapd-attribute: nsuniqueid:targetUniqueId',
    'nsslapd-log-deleted: on',
    `nsslapd-changelogmaxage: ${options.changelogMaxAge ?? '2d'}`,
    `nsslapd-changelog-trim-interval: ${options.changelogTrimIntervalS ?? 300}`,
  ]);
}

/**
 * Sets `nsslapd-pluginEnabled: on` in the plug-in entry `cn=NAME,cn=plugins,cn=config` and appends
 * `extra` attribute lines to it.
 */
function enablePlugin(dse: string, name: string, extra: string[] = []): string {
  const entries = dse.split(/\n\n+/);
  const dn = `dn: cn=${name},cn=plugins,cn=config`.toLowerCase();
  const index = entries.findIndex((entry) => entry.toLowerCase().startsWith(dn));
  const entry = index >= 0 ? entries[index] : undefined;
  if (entry === undefined || !/^nsslapd-pluginenabled: off$/im.test(entry)) {
    throw new Error(`${TEMPLATE_DSE}: no disabled plug-in entry cn=${name}`);
  }
  entries[index] = [
    entry.replace(/^nsslapd-pluginenabled: off$/im, 'nsslapd-pluginenabled: on'),
    ...extra,
  ].join('\n');
  return entries.join('\n\n');
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid);
  for (const item of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, item.name);
    if (item.isDirectory()) await chownTree(full, uid, gid);
    else await chown(full, uid, gid);
  }
}

interface DirsrvProcess {
  child: ChildProcess;
  stop(): Promise<void>;
}

class DirsrvStartError extends Error {
  override readonly name = 'DirsrvStartError';
  /** ns-slapd exited and something else accepts TCP on its port. */
  readonly portTaken: boolean;
  constructor(message: string, output: string, portTaken: boolean, cause?: unknown) {
    super(
      `${message}${portTaken ? ' (the port is in use by another process)' : ''}\n--- ns-slapd output and DIR/log/errors ---\n${output.trim() || '(empty)'}`,
      { cause },
    );
    this.portTaken = portTaken;
  }
}

async function launch(dataDir: string, port: number, rootPassword: string): Promise<DirsrvProcess> {
  const child = spawn(NS_SLAPD, ['-D', dataDir, '-i', path.join(dataDir, 'run', 'slapd.pid'), '-d', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const supervised = supervise(child);
  const stop = () => supervised.stop(STOP_GRACE_MS);

  try {
    await waitUntilReady({
      program: 'ns-slapd',
      probe: () => bindAsManager(port, rootPassword),
      exited: supervised.exited,
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 50,
      readiness: 'bind',
    });
  } catch (error) {
    await stop();
    const errorsLog = await readFile(path.join(dataDir, 'log', 'errors'), 'utf8').catch(() => '');
    const cause = error instanceof Error ? error : new Error(String(error));
    // A taken port makes ns-slapd exit 1 at once without a word (bind() fails with EADDRINUSE
    // before its error log is open): tell it from other failures by asking the port.
    const portTaken = error instanceof ExitedDuringStartError && (await portAnswers(port));
    throw new DirsrvStartError(
      `389-DS did not start on 127.0.0.1:${port}: ${cause.message}`,
      `${supervised.output()}\n${errorsLog.slice(-8_192)}`,
      portTaken,
      cause,
    );
  }
  return { child, stop };
}

/**
 * Ready = a bind as cn=Directory Manager with this instance's random password succeeds: proves
 * that OUR ns-slapd answers on the port, not another process that holds it.
 */
async function bindAsManager(port: number, rootPassword: string): Promise<void> {
  const client = new Client({ url: `ldap://127.0.0.1:${port}`, connectTimeout: 500, timeout: 2_000 });
  try {
    await client.bind(ROOT_DN, rootPassword);
  } finally {
    await client.unbind().catch(() => {});
  }
}

/** Backend + suffix, the OUs and the service account, in the order they must be added. */
function setupEntries(servicePassword: string): Array<[string, Record<string, string[]>]> {
  return [
    [
      'cn=userroot,cn=ldbm database,cn=plugins,cn=config',
      {
        objectClass: ['top', 'extensibleObject', 'nsBackendInstance'],
        cn: ['userroot'],
        'nsslapd-suffix': [SUFFIX],
      },
    ],
    [
      `cn="${SUFFIX}",cn=mapping tree,cn=config`,
      {
        objectClass: ['top', 'extensibleObject', 'nsMappingTree'],
        cn: [SUFFIX],
        'nsslapd-state': ['backend'],
        'nsslapd-backend': ['userroot'],
      },
    ],
    [
      SUFFIX,
      {
        objectClass: ['top', 'domain'],
        dc: ['example'],
        // Verified on 2.3.1: targetattr="*" also covers the operational attributes the preset
        // reads (nsUniqueId, modifyTimestamp, memberOf) and writes (nsAccountLock).
        aci: [
          `(targetattr="*")(version 3.0; acl "scim-bridge service account"; allow (all) userdn="ldap:///${SERVICE_DN}";)`,
        ],
      },
    ],
    [`ou=People,${SUFFIX}`, { objectClass: ['top', 'organizationalUnit'], ou: ['People'] }],
    [`ou=Groups,${SUFFIX}`, { objectClass: ['top', 'organizationalUnit'], ou: ['Groups'] }],
    [`ou=Services,${SUFFIX}`, { objectClass: ['top', 'organizationalUnit'], ou: ['Services'] }],
    [
      SERVICE_DN,
      {
        objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
        uid: ['scim-bridge'],
        cn: ['scim-bridge'],
        sn: ['scim-bridge'],
        // Hashed by the server (its default storage scheme).
        userPassword: [servicePassword],
      },
    ],
  ];
}

/** Adds setupEntries() as cn=Directory Manager (and lets the service account read cn=changelog). */
async function populate(
  port: number,
  rootPassword: string,
  servicePassword: string,
  changelog: boolean,
): Promise<void> {
  const client = new Client({ url: `ldap://127.0.0.1:${port}`, connectTimeout: 2_000, timeout: 10_000 });
  try {
    await client.bind(ROOT_DN, rootPassword);
    for (const [dn, attributes] of setupEntries(servicePassword)) {
      await client.add(
        dn,
        Object.entries(attributes).map(([type, values]) => new Attribute({ type, values })),
      );
    }
    // The plug-in's own ACI shows only cn=changelog itself to others than the Directory Manager.
    const aci = `(targetattr="*")(version 3.0; acl "scim-bridge reads the changelog"; allow (read,search,compare) userdn="ldap:///${SERVICE_DN}";)`;
    const modification = new Attribute({ type: 'aci', values: [aci] });
    if (changelog) await client.modify('cn=changelog', [new Change({ operation: 'add', modification })]);
  } catch (error) {
    throw new Error(`389-DS set-up failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  } finally {
    await client.unbind().catch(() => {});
  }
}

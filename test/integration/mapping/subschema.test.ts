/**
 * Mappings against a real slapd's schema (config/ldap/slapd.conf.template: core, cosine,
 * inetorgperson, rfc2307bis-lite, scim-bridge, memberof): the shipped preset passes, a misspelt
 * LDAP attribute is refused at start-up and on hot reload with file:line:column, the last good set
 * stays in service, and an unreachable directory skips the check instead of blocking start-up.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../../src/localdev/net.ts';
import type { RunningSlapd } from '../../../src/localdev/slapd.ts';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { loadMappingDirectory } from '../../../src/mapping/load.ts';
import { MappingError } from '../../../src/mapping/problems.ts';
import { MappingStore, type ReloadOutcome } from '../../../src/mapping/reload.ts';
import { checkAgainstSubschema, subschemaVerifier } from '../../../src/mapping/subschema.ts';
import type { Directory } from '../../../src/ports/directory.ts';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { directoryFor, ldapBinariesMissing, startSeededSlapd } from '../ldap/helpers.ts';

let slapd: RunningSlapd;
let directory: Directory;
let dir: string;
let store: MappingStore | undefined;
let bridge: TestBridge | undefined;
const skipped: string[] = [];
const outcomes: ReloadOutcome[] = [];

beforeAll(async () => {
  if (ldapBinariesMissing) return;
  slapd = await startSeededSlapd();
  directory = directoryFor(slapd);
});

afterAll(async () => {
  await directory?.close();
  await slapd?.stop();
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'subschema-mappings-'));
  cpSync('mappings/openldap', dir, { recursive: true });
  skipped.length = 0;
  outcomes.length = 0;
});

afterEach(async () => {
  store?.close();
  store = undefined;
  await bridge?.stop();
  bridge = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const usersFile = () => join(dir, 'users.yaml');
const original = () => readFileSync('mappings/openldap/users.yaml', 'utf8');

/** The preset's users.yaml with `mail` misspelt as `mial`, and where the rule's key starts (1-based). */
function misspeltMail(): { text: string; line: number; column: number } {
  const text = original().replace(/\{ ldap: mail\b/, '{ ldap: mial');
  const lines = text.split('\n');
  const index = lines.findIndex((l) => l.includes('{ ldap: mial'));
  if (index < 0) throw new Error('the preset no longer maps emails to mail');
  return { text, line: index + 1, column: lines[index]!.indexOf(`'emails[type eq "work"].value'`) + 1 };
}

const EXPECTED_MESSAGE = `attributes.emails[type eq "work"].value: LDAP attribute "mial" is not defined in the directory's schema (cn=Subschema) (hint: did you mean "mail"?)`;

const open = (against: Directory = directory): MappingStore =>
  new MappingStore(dir, {
    catalog: STANDARD_SCHEMAS,
    onReload: (outcome) => outcomes.push(outcome),
    verify: subschemaVerifier(against, (reason) => skipped.push(reason)),
  });

async function ready(t: TestBridge): Promise<{ status: string; warnings?: string[] }> {
  const response = await fetch(new URL('/ready', t.baseUrl));
  return (await response.json()) as { status: string; warnings?: string[] };
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(ldapBinariesMissing)('mappings against the directory subschema (real slapd)', () => {
  it('reads the subschema the rootDSE names, with aliases, OIDs and the loaded schemas', async () => {
    const subschema = await directory.subschema();
    expect(subschema?.source).toBe('cn=Subschema');
    // RFC 4519 §2.32: ( 2.5.4.4 NAME ( 'sn' 'surname' ) ...); RFC 2798 inetOrgPerson; the
    // scim-bridge.schema of config/ldap; memberOf from the memberof overlay.
    expect(subschema?.attributeTypes).toEqual(
      expect.arrayContaining(['2.5.4.4', 'sn', 'surname', 'mail', 'scimActive', 'memberOf', 'entryUUID']),
    );
    expect(subschema?.objectClasses).toEqual(
      expect.arrayContaining(['inetOrgPerson', 'groupOfNames', 'scimResource', '2.16.840.1.113730.3.2.2']),
    );
    expect(subschema?.attributeTypes).not.toContain('sAMAccountName');
  });

  it('(a) the shipped openldap preset passes', async () => {
    const subschema = await directory.subschema();
    expect(subschema).toBeDefined();
    expect(
      checkAgainstSubschema(loadMappingDirectory('mappings/openldap', STANDARD_SCHEMAS), subschema!),
    ).toEqual([]);
    store = open();
    await expect(store.verify()).resolves.toBeUndefined();
    expect(skipped).toEqual([]);
  });

  it('(a) while the Active Directory preset does not (its attributes are not in OpenLDAP)', async () => {
    const subschema = await directory.subschema();
    const problems = checkAgainstSubschema(
      loadMappingDirectory('mappings/activedirectory', STANDARD_SCHEMAS),
      subschema!,
    );
    expect(problems.map((p) => p.message)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('"sAMAccountName"'),
        expect.stringContaining('"objectGUID"'),
      ]),
    );
  });

  it('(b) a misspelt LDAP attribute is refused with file:line:column', async () => {
    const { text, line, column } = misspeltMail();
    writeFileSync(usersFile(), text);
    store = open();
    const error = await store.verify().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MappingError);
    expect((error as MappingError).message).toBe(`${usersFile()}:${line}:${column} ${EXPECTED_MESSAGE}`);
    expect(skipped).toEqual([]);
  });

  it('(b) the bridge refuses to start on it, naming file:line:column', async () => {
    const { text, line, column } = misspeltMail();
    writeFileSync(usersFile(), text);
    const error = await startTestBridge({ env: { SCIM_BRIDGE_MAPPINGS_DIR: dir } }).then(
      (started) => {
        bridge = started;
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MappingError);
    expect((error as MappingError).message).toContain(`${usersFile()}:${line}:${column} ${EXPECTED_MESSAGE}`);
  });

  it('(c) a hot reload into it keeps the last good set and reports the problem', async () => {
    store = open();
    await store.verify();
    const good = store.current();
    const { text, line, column } = misspeltMail();
    writeFileSync(usersFile(), text);

    const broken = await store.reload();
    expect(broken.ok).toBe(false);
    expect(store.current()).toBe(good);
    expect(outcomes.map((o) => o.ok)).toEqual([false]);
    expect(store.problems()).toHaveLength(1);
    expect(store.warnings()).toEqual([
      `mapping reload failed, last good mapping in use: ${usersFile()}:${line}:${column} ${EXPECTED_MESSAGE}`,
    ]);

    writeFileSync(usersFile(), original());
    const fixed = await store.reload();
    expect(fixed.ok).toBe(true);
    expect(store.current()).not.toBe(good);
    expect(store.problems()).toEqual([]);
  });

  it('(c) in the running bridge: /ready degraded with file:line:column, the last good set serving', async () => {
    bridge = await startTestBridge({ env: { SCIM_BRIDGE_MAPPINGS_DIR: dir } });
    const t = bridge;
    expect((await ready(t)).status).toBe('ready');
    const good = t.bridge.mappings();
    const { text, line, column } = misspeltMail();
    writeFileSync(usersFile(), text);

    const degraded = await until(
      () => ready(t),
      (r) => r.status === 'degraded',
    );
    expect(degraded.warnings?.join('\n')).toContain(`users.yaml:${line}:${column} ${EXPECTED_MESSAGE}`);
    expect(t.bridge.mappings()).toBe(good);
    const users = await t.request('GET', '/Users?filter=emails.value%20pr&count=1');
    expect(users.status).toBe(200);
    expect(users.body.Resources[0].emails[0].value).toMatch(/@/);

    writeFileSync(usersFile(), original());
    await until(
      () => ready(t),
      (r) => r.status === 'ready',
    );
    expect(t.bridge.mappings()).not.toBe(good);
  });

  it('an unreachable directory skips the check: the hook accepts the set and says why', async () => {
    const port = await freeLoopbackPort();
    const unreachable = directoryFor({ ...slapd, url: `ldap://127.0.0.1:${port}/` });
    try {
      const { text } = misspeltMail();
      writeFileSync(usersFile(), text);
      store = open(unreachable);
      await expect(store.verify()).resolves.toBeUndefined();
      expect(skipped).toHaveLength(1);
      expect(skipped[0]).toContain('could not be asked');
      expect((await store.reload()).ok).toBe(true);
    } finally {
      await unreachable.close();
    }
  });

  it('an unreachable directory does not stop the bridge from starting; it logs that the check was skipped', async () => {
    const port = await freeLoopbackPort();
    const logLines: string[] = [];
    bridge = await startTestBridge({
      env: { SCIM_BRIDGE_MAPPINGS_DIR: dir, SCIM_BRIDGE_LDAP_URL: `ldap://127.0.0.1:${port}/` },
      logLines,
    });
    const warnings = logLines
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.level === 40 && l.msg.includes('not checked against the directory schema'));
    expect(warnings).toHaveLength(1);
  });
});

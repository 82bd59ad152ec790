/**
 * `scim-ldap-bridge validate --directory`: the mapping files checked against the schema of the
 * directory the configuration names, before deploying them. Real slapd; the CLI as a process.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSlapd, startSlapd } from '../../../src/localdev/slapd.ts';

let slapd: RunningSlapd;
let broken: string;

beforeAll(async () => {
  slapd = await startSlapd();
  broken = mkdtempSync(join(tmpdir(), 'validate-dir-'));
  cpSync('mappings/openldap', broken, { recursive: true });
  const file = join(broken, 'users.yaml');
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace(
      'title: { ldap: title, orderingRule: caseIgnoreOrderingMatch }',
      'title: { ldap: titel, orderingRule: caseIgnoreOrderingMatch }',
    ),
  );
});

afterAll(async () => {
  await slapd?.stop();
  rmSync(broken, { recursive: true, force: true });
});

function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('./node_modules/.bin/node', ['src/cli/main.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ status: code ?? -1, out, err }));
  });
}

const directoryEnv = () => ({
  SCIM_BRIDGE_LDAP_URL: slapd.url,
  SCIM_BRIDGE_LDAP_BIND_DN: slapd.serviceDn,
  SCIM_BRIDGE_LDAP_BIND_PASSWORD: slapd.servicePassword,
});

describe('validate --directory', () => {
  it('passes the OpenLDAP preset against slapd and says it checked', async () => {
    const r = await cli(['validate', '--directory', 'mappings/openldap'], directoryEnv());
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.out).toContain(`checked against the schema of ${slapd.url}`);
  });

  it('refuses a misspelt LDAP attribute with file:line:column and a suggestion', async () => {
    const line =
      readFileSync(join(broken, 'users.yaml'), 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('titel')) + 1;
    const r = await cli(['validate', '--directory', broken], directoryEnv());
    expect(r.status).toBe(1);
    expect(r.out).toMatch(
      new RegExp(`users\\.yaml:${line}:\\d+ attributes\\.title: .*"titel".*did you mean "title"`),
    );
    // Without --directory the same files pass: the check needs the directory's schema.
    expect((await cli(['validate', broken], {})).status).toBe(0);
  });

  it('is an error when the directory cannot be asked, and a usage error without ldap.url', async () => {
    const down = await cli(['validate', '--directory', 'mappings/openldap'], {
      ...directoryEnv(),
      SCIM_BRIDGE_LDAP_URL: 'ldap://127.0.0.1:1',
    });
    expect(down.status).toBe(1);
    expect(down.err).toContain('cannot check against ldap://127.0.0.1:1');
    const none = await cli(['validate', '--directory', 'mappings/openldap'], {});
    expect(none.status).toBe(2);
    expect(none.err).toContain('needs ldap.url');
  });
});

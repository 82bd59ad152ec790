/**
 * `scim-ldap-bridge tokens ...` and `trust ...` as a user runs them (a child process), against a
 * running bridge's Redis and a configuration file in a temp dir; the bridge re-reads the file as
 * SIGHUP makes it do.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { metadataXml, Signer, SP, TOKEN_URL } from '../../unit/auth/saml-fixtures.ts';

let t: TestBridge;
let dir: string;
let configFile: string;
let env: Record<string, string>;
const signer = new Signer();

function cli(args: string[]): Promise<{ status: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(path.resolve('node_modules/.bin/node'), [path.resolve('src/cli/main.ts'), ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      cwd: dir,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ status: code ?? -1, out, err }));
  });
}

beforeAll(async () => {
  t = await startTestBridge();
  dir = mkdtempSync(path.join(tmpdir(), 'cli-auth-'));
  configFile = path.join(dir, 'bridge.yaml');
  writeFileSync(
    configFile,
    `# the operator's comment stays\nauth:\n  tokens: []\n  saml:\n    entityId: ${SP}\n    tokenEndpointUrl: ${TOKEN_URL}\n`,
  );
  env = { SCIM_BRIDGE_CONFIG: configFile, SCIM_BRIDGE_REDIS_URL: t.bridge.local?.redis?.url ?? '' };
});
afterAll(async () => {
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
  signer.cleanup();
});

/** What SIGHUP does in `serve`: the bridge re-reads the file (plus the harness's own token). */
const sighup = () =>
  t.bridge.reloadTokens(loadConfig({ file: configFile, env: { SCIM_BRIDGE_TOKEN: t.token } }));
const get = (token: string, method = 'GET', body?: unknown) =>
  t.request(method, '/Users', body, { Authorization: `Bearer ${token}` });

describe('tokens', () => {
  it('create prints a token once, stores only its hash, and it works after a reload', async () => {
    const made = await cli(['tokens', 'create', 'ci-reader', '--scope', 'users:read']);
    expect(made.status, made.err).toBe(0);
    const token = made.out.trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const text = readFileSync(configFile, 'utf8');
    expect(text).not.toContain(token);
    expect(text).toContain("# the operator's comment stays");
    expect(text).toMatch(/name: ci-reader/);
    expect((await get(token)).status).toBe(401);
    sighup();
    expect((await get(token)).status).toBe(200);
    expect((await get(token, 'POST', { userName: 'cli-made' })).status).toBe(403);
  });

  it('refuses a scope of the wrong form and leaves the file unchanged', async () => {
    const before = readFileSync(configFile, 'utf8');
    const refused = await cli(['tokens', 'create', 'bad', '--scope', 'everything']);
    expect(refused.status).toBe(2);
    expect(refused.err).toMatch(/auth\.tokens\[1\]\.scopes\[0\]/);
    expect(readFileSync(configFile, 'utf8')).toBe(before);
  });

  it('list shows static and issued tokens; revoke ID ends an issued token on the running bridge', async () => {
    const issued = await t.bridge.auth.issued.issue(
      { name: 'someone@idp', issuer: 'https://idp/' },
      ['users:read'],
      60,
    );
    const listed = await cli(['tokens', 'list']);
    expect(listed.status, listed.err).toBe(0);
    expect(listed.out).toMatch(/^static\tci-reader\tusers:read\tno expiry\t/m);
    expect(listed.out).toContain(`issued\tsomeone@idp\tusers:read\t`);
    expect(listed.out).toContain(issued.id);
    expect(listed.out).not.toContain(issued.token);
    expect((await get(issued.token)).status).toBe(200);
    expect((await cli(['tokens', 'revoke', issued.id])).status).toBe(0);
    expect((await get(issued.token)).status).toBe(401);
    expect((await cli(['tokens', 'revoke', issued.id])).status).toBe(1);
  });

  it('revoke NAME removes a static token from the file', async () => {
    expect((await cli(['tokens', 'revoke', 'ci-reader'])).status).toBe(0);
    expect(readFileSync(configFile, 'utf8')).not.toContain('ci-reader');
    expect((await cli(['tokens', 'revoke', 'ci-reader'])).status).toBe(1);
  });
});

describe('trust', () => {
  it('add checks the metadata first, list shows the entityID and key, remove takes it out', async () => {
    const key = signer.key('cli-idp');
    const good = path.join(dir, 'idp.xml');
    writeFileSync(good, metadataXml({ keys: [{ cert: key.certBase64, use: 'signing' }] }));
    const bad = path.join(dir, 'bad.xml');
    writeFileSync(bad, '<!DOCTYPE x><x/>');
    const refused = await cli([
      'trust',
      'add',
      'bad',
      '--metadata-file',
      bad,
      '--rule',
      'groups=x:users:read',
    ]);
    expect(refused.status).toBe(1);
    expect(refused.err).toMatch(/metadata refused/);
    const added = await cli([
      'trust',
      'add',
      'corp',
      '--metadata-file',
      good,
      '--rule',
      'groups=scim:users:write,groups:read',
    ]);
    expect(added.status, added.err).toBe(0);
    const config = loadConfig({ file: configFile, env: {} });
    expect(config.auth.saml.trustedIdps).toEqual([
      {
        name: 'corp',
        metadataFile: good,
        scopeRules: [{ attribute: 'groups', equals: 'scim', scopes: ['users:write', 'groups:read'] }],
      },
    ]);
    const listed = await cli(['trust', 'list']);
    expect(listed.out).toMatch(
      /^corp\thttps:\/\/idp\.example\.test\/saml\t.*\t([0-9A-F]{2}:){31}[0-9A-F]{2}\n$/,
    );
    expect((await cli(['trust', 'remove', 'corp'])).status).toBe(0);
    expect(loadConfig({ file: configFile, env: {} }).auth.saml.trustedIdps).toEqual([]);
  });
});

/**
 * Hot reload wired into the running bridge (real slapd and redis): an invalid edit keeps the last
 * good mapping serving and /ready reports "degraded" with file:line:column; a valid edit is served.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';

let dir: string;
let t: TestBridge;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hot-mappings-'));
  cpSync('mappings/openldap', dir, { recursive: true });
  t = await startTestBridge({ env: { SCIM_BRIDGE_MAPPINGS_DIR: dir } });
});

afterAll(async () => {
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function ready(): Promise<{ status: string; warnings?: string[] }> {
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

const userAttributes = async (): Promise<string[]> => {
  const r = await t.request('GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User');
  return (r.body.attributes as { name: string }[]).map((a) => a.name);
};

describe('hot reload in the running bridge', () => {
  it('keeps serving the last good mapping, reports degraded, then serves the fixed one', async () => {
    expect((await ready()).status).toBe('ready');
    expect(await userAttributes()).toContain('title');

    const file = join(dir, 'users.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      original.replace(
        'title: { ldap: title, orderingRule: caseIgnoreOrderingMatch }',
        'title: { ldap: title, orderingRule: caseIgnoreOrderingMatch, transform: shout }',
      ),
    );
    const line =
      readFileSync(file, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('shout')) + 1;

    const degraded = await until(ready, (r) => r.status === 'degraded');
    expect(degraded.warnings?.join('\n')).toContain(`users.yaml:${line}:`);
    expect((await t.request('GET', '/Users?count=1')).status).toBe(200);
    expect(await userAttributes()).toContain('title');

    writeFileSync(
      file,
      original.replace('  title: { ldap: title, orderingRule: caseIgnoreOrderingMatch }\n', ''),
    );
    await until(ready, (r) => r.status === 'ready');
    expect(await userAttributes()).not.toContain('title');
  });
});

/**
 * The mapping pages against a running bridge whose mappings live in a temporary directory: the
 * attribute table, problems exactly as `scim-ldap-bridge validate` prints them after an invalid
 * edit is hot-reloaded (the last good mapping still shown), then the fixed file's new table.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { escaped, type Pages, pageHtml, pagesFor, until } from './pages.ts';

let dir: string;
let t: TestBridge;
let pages: Pages;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'admin-mappings-'));
  cpSync('mappings/openldap', dir, { recursive: true });
  t = await startTestBridge({ env: { SCIM_BRIDGE_MAPPINGS_DIR: dir } });
  pages = pagesFor(t, dir);
});

afterAll(async () => {
  pages?.close();
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The rows of the attribute table as [SCIM attribute, LDAP attribute, transform, flags]. */
function attributeRows(html: string): string[][] {
  const table = /<table class="attribute-table">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
  return [
    ...table.matchAll(
      /<tr>\s*<td>([\s\S]*?)<\/td>\s*<td>([\s\S]*?)<\/td>\s*<td>([\s\S]*?)<\/td>\s*<td>([\s\S]*?)<\/td>/g,
    ),
  ].map((m) => m.slice(1, 5).map((cell) => cell.replace(/<[^>]+>/g, '').trim()));
}

describe('mapping pages', () => {
  it('list the resource types, valid, with their attribute tables', async () => {
    const index = pageHtml(await pages.get('/admin/mappings'));
    expect(index).toContain('href="/admin/mappings/Users"');
    expect(index).toContain('href="/admin/mappings/Groups"');
    expect(index).not.toContain('class="problems"');

    const users = pageHtml(await pages.get('/admin/mappings/Users'));
    const rows = attributeRows(users);
    expect(rows).toContainEqual(['userName', 'uid', 'string', expect.stringContaining('required')]);
    expect(rows.find((r) => r[0] === 'groups.value')?.[3]).toContain('readOnly');
    expect(rows.find((r) => r[0] === 'title')?.[1]).toBe('title');
    expect(users).toContain('ou=People,dc=example,dc=com');
    // The file on disk is shown as text, its YAML escaped.
    expect(users).toContain(escaped('dnTemplate: uid={userName},ou=People,dc=example,dc=com'));
  });

  it('an unknown resource type is a 404 naming the mapped ones', async () => {
    const outcome = await pages.get('/admin/mappings/Printers');
    expect(outcome).toMatchObject({ kind: 'problem', status: 404 });
    expect(outcome.kind === 'problem' && outcome.message).toContain('Users');
  });

  it('after an invalid edit shows the problems as validate prints them; after a fix, the new table', async () => {
    const file = join(dir, 'users.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      original.replace(
        'title: { ldap: title, orderingRule: caseIgnoreOrderingMatch }',
        'title: { ldap: title, orderingRule: caseIgnoreOrderingMatch, transform: shout }',
      ),
    );
    const refused = await until(
      () => pages.get('/admin/mappings/Users').then(pageHtml),
      (html) => html.includes('class="problems"'),
    );
    const cli = await promisify(execFile)('node_modules/.bin/node', ['src/cli/main.ts', 'validate', dir], {
      timeout: 20_000,
    }).catch((error: { stdout: string }) => error);
    const lines = cli.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/users\.yaml:\d+:\d+ /);
    for (const line of lines) expect(refused).toContain(escaped(line));
    expect(refused).toContain('refused, the last good mapping stays in service');
    // The last good mapping is still the one shown (and served).
    expect(attributeRows(refused).map((r) => r[0])).toContain('title');

    writeFileSync(
      file,
      original.replace('  title: { ldap: title, orderingRule: caseIgnoreOrderingMatch }\n', ''),
    );
    const fixed = await until(
      () => pages.get('/admin/mappings/Users').then(pageHtml),
      (html) => !html.includes('class="problems"'),
    );
    expect(attributeRows(fixed).map((r) => r[0])).not.toContain('title');
    expect(attributeRows(fixed).map((r) => r[0])).toContain('displayName');
    expect(fixed).toContain('valid, in service');
  });
});

/**
 * Hot reload on a real temp directory: a broken file keeps the last good set in service and
 * exposes its problems; a fixed file swaps the new set in; fs.watch and SIGHUP both trigger it.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { MappingError, type MappingProblem } from '../../../src/mapping/problems.ts';
import { MappingStore, type ReloadOutcome } from '../../../src/mapping/reload.ts';

let dir: string;
let store: MappingStore | undefined;
const outcomes: { outcome: ReloadOutcome; reason: string }[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mappings-'));
  cpSync('mappings/openldap', dir, { recursive: true });
  outcomes.length = 0;
});

afterEach(() => {
  store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const usersFile = () => join(dir, 'users.yaml');
const edit = (from: string, to: string): void => {
  const text = readFileSync(usersFile(), 'utf8');
  if (!text.includes(from)) throw new Error(`fixture lacks ${from}`);
  writeFileSync(usersFile(), text.replace(from, to));
};
const open = (): MappingStore =>
  new MappingStore(dir, {
    catalog: STANDARD_SCHEMAS,
    debounceMs: 50,
    onReload: (outcome, reason) => outcomes.push({ outcome, reason }),
  });
const userRule = (s: MappingStore, ldap: string) =>
  s
    .current()
    .resourceTypes.find((r) => r.name === 'User')
    ?.rules.find((r) => r.ldap === ldap);

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('MappingStore', () => {
  it('refuses to start from an invalid directory', () => {
    writeFileSync(usersFile(), 'resourceType: User\n');
    expect(() => open()).toThrow(MappingError);
  });

  it('keeps the last good set when a file breaks, exposes the errors, and swaps in the fix', async () => {
    store = open();
    const good = store.current();
    expect(userRule(store, 'title')).toBeDefined();

    edit(
      'title: { ldap: title, orderingRule: caseIgnoreOrderingMatch }',
      'title: { ldap: title, orderingRule: caseIgnoreOrderingMatch, transform: shout }',
    );
    const broken = await store.reload();
    expect(broken.ok).toBe(false);
    expect(store.current()).toBe(good);
    expect(store.mappings()).toBe(good);
    const problem = store.problems()[0];
    expect(problem?.file).toBe(usersFile());
    expect(problem?.message).toContain('must be one of');
    expect(problem?.key).toContain('transform');
    // The line of the title rule in the file (counted from the fixture, not from the loader).
    const line =
      readFileSync(usersFile(), 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('shout')) + 1;
    expect(problem?.line).toBe(line);
    expect(store.warnings()[0]).toContain(`users.yaml:${line}:`);

    edit('  title: { ldap: title, orderingRule: caseIgnoreOrderingMatch, transform: shout }\n', '');
    const fixed = await store.reload();
    expect(fixed.ok).toBe(true);
    expect(store.current()).not.toBe(good);
    expect(userRule(store, 'title')).toBeUndefined();
    expect(store.problems()).toEqual([]);
    expect(store.warnings()).toEqual([]);
  });

  it.each([
    ['a YAML syntax error', () => writeFileSync(usersFile(), 'resourceType: [User\n')],
    ['a schema violation', () => edit('scope: one', 'scope: everything')],
    ['the directory removed', () => rmSync(dir, { recursive: true })],
    [
      'no mapping files left',
      () => {
        rmSync(usersFile());
        rmSync(join(dir, 'groups.yaml'));
      },
    ],
  ])('keeps serving after %s', async (_, breakIt) => {
    store = open();
    const good = store.current();
    breakIt();
    expect((await store.reload()).ok).toBe(false);
    expect(store.current()).toBe(good);
    expect(store.problems().length).toBeGreaterThan(0);
  });

  it('swaps in only after the verify hook passes; the newest of overlapping reloads decides', async () => {
    const pending: ((problems: MappingProblem[]) => void)[] = [];
    store = new MappingStore(dir, {
      catalog: STANDARD_SCHEMAS,
      onReload: (outcome, reason) => outcomes.push({ outcome, reason }),
      verify: () => new Promise((resolve) => pending.push(resolve)),
    });
    const good = store.current();
    const older = store.reload('older');
    edit(
      'title: { ldap: title, orderingRule: caseIgnoreOrderingMatch }',
      'title: { ldap: title, orderingRule: caseIgnoreOrderingMatch, readOnly: true }',
    );
    const newer = store.reload('newer');
    expect(pending).toHaveLength(2);
    // Nothing is swapped in while the hook has not answered.
    expect(store.current()).toBe(good);
    const problem = { file: usersFile(), line: 3, column: 5, key: 'attributes.title', message: 'refused' };
    pending[1]?.([]);
    pending[0]?.([problem]);
    const [first, second] = await Promise.all([older, newer]);
    expect(second.ok).toBe(true);
    // The older attempt, overtaken, neither swaps nor reports: it resolves to the newer outcome.
    expect(first).toBe(second);
    expect(outcomes.map((o) => o.reason)).toEqual(['newer']);
    expect(userRule(store, 'title')?.readOnly).toBe(true);

    const refused = store.reload('refused');
    pending[2]?.([problem]);
    expect((await refused).ok).toBe(false);
    expect(store.problems()).toEqual([problem]);
    expect(userRule(store, 'title')?.readOnly).toBe(true);
  });

  it('reloads when a file changes (debounced) and on SIGHUP', async () => {
    store = open();
    store.watch();
    edit(
      'title: { ldap: title, orderingRule: caseIgnoreOrderingMatch }',
      'title: { ldap: title, orderingRule: caseIgnoreOrderingMatch, transform: shout }',
    );
    await until(() => outcomes.length > 0);
    await new Promise((r) => setTimeout(r, 150));
    // Several fs events from one write collapse into one reload.
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]?.outcome.ok).toBe(false);
    expect(outcomes[0]?.reason).toContain('users.yaml');

    edit(
      'title: { ldap: title, orderingRule: caseIgnoreOrderingMatch, transform: shout }',
      'title: { ldap: title, orderingRule: caseIgnoreOrderingMatch }',
    );
    await until(() => outcomes.length > 1);
    expect(outcomes[1]?.outcome.ok).toBe(true);
    expect(store.problems()).toEqual([]);

    process.emit('SIGHUP', 'SIGHUP');
    expect(outcomes.at(-1)?.reason).toBe('SIGHUP');
    store.close();
    const count = outcomes.length;
    process.emit('SIGHUP', 'SIGHUP');
    expect(outcomes).toHaveLength(count);
  });
});

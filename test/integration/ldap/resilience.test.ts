/**
 * The adapter when the directory goes away: transparent reconnect after a restart, bounded waits
 * when slapd hangs, UnavailableError (never a generic Error, never a hang) when it is down.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSlapd } from '../../../src/localdev/slapd.ts';
import type { Directory } from '../../../src/ports/directory.ts';
import { UnavailableError } from '../../../src/ports/errors.ts';
import { directoryFor, ldapBinariesMissing, PEOPLE, rawValues, startSeededSlapd, text } from './helpers.ts';

const OPERATION_TIMEOUT_MS = 250;

describe.skipIf(ldapBinariesMissing)('LDAP directory: directory outages', () => {
  let slapd: RunningSlapd;
  let directory: Directory;

  beforeAll(async () => {
    slapd = await startSeededSlapd();
    directory = directoryFor(slapd, { poolSize: 2, operationTimeoutMs: OPERATION_TIMEOUT_MS });
  });

  afterAll(async () => {
    await directory?.close();
    await slapd?.stop();
  });

  async function timed<T>(promise: Promise<T>): Promise<{ outcome: PromiseSettledResult<T>; ms: number }> {
    const started = performance.now();
    const [outcome] = await Promise.allSettled([promise]);
    return { outcome: outcome as PromiseSettledResult<T>, ms: performance.now() - started };
  }

  it('a cursor walk survives a slapd restart: the lost session gives way to paging by position', async () => {
    const warnings: string[] = [];
    const restartable = directoryFor(slapd, {}, { warn: (_, message) => warnings.push(message), info() {} });
    const page = (startIndex: number, session?: string, total?: number) =>
      restartable.search({
        base: PEOPLE,
        scope: 'one',
        filter: { type: 'equal', attribute: 'objectClass', value: 'inetOrgPerson' },
        attributes: ['uid'],
        sort: [{ attribute: 'uid', orderingRule: 'caseIgnoreOrderingMatch' }],
        page: {
          kind: 'cursor',
          startIndex,
          count: 2,
          ...(session ? { session } : {}),
          ...(total !== undefined ? { total } : {}),
        },
      });
    const uidsOf = (result: { entries: { attributes: Record<string, unknown[]> }[] }) =>
      result.entries.map((entry) => String(entry.attributes.uid?.[0]));
    try {
      const first = await page(1);
      expect(uidsOf(first)).toEqual(['alice', 'bob']);
      expect(first.session).toEqual(expect.any(String));
      await slapd.restart();
      const second = await page(3, first.session, first.total);
      expect(uidsOf(second)).toEqual(['carol', 'dave']);
      expect(second.session).toBeUndefined();
      expect(warnings).toContain('cursor session failed; paging by position');
    } finally {
      await restartable.close();
    }
  });

  it('a page whose kept sorted list is lost (restart) or fails (hung slapd) is searched afresh; the failure is logged once', async () => {
    const warnings: string[] = [];
    const SORTED_LIST_WARNING = /sorted list the directory kept failed.*ldap\.sortedListReuseMs/;
    const lists = directoryFor(
      slapd,
      { poolSize: 1, operationTimeoutMs: OPERATION_TIMEOUT_MS, sortedListReuseMs: 60_000 },
      { warn: (_, message) => warnings.push(message), info() {} },
    );
    const page = (startIndex: number) =>
      lists.search({
        base: PEOPLE,
        scope: 'one',
        filter: { type: 'equal', attribute: 'objectClass', value: 'inetOrgPerson' },
        attributes: ['uid'],
        sort: [{ attribute: 'uid', orderingRule: 'caseIgnoreOrderingMatch' }],
        page: { kind: 'offset', startIndex, count: 2 },
      });
    const uidsOf = (result: { entries: { attributes: Record<string, unknown[]> }[] }) =>
      result.entries.map((entry) => String(entry.attributes.uid?.[0]));
    try {
      expect(uidsOf(await page(1))).toEqual(['alice', 'bob']);
      // The list went with the connection: nothing to continue, no failure to report.
      await slapd.restart();
      expect(uidsOf(await page(3))).toEqual(['carol', 'dave']);
      expect(warnings.filter((message) => SORTED_LIST_WARNING.test(message))).toEqual([]);

      // Twice, a list kept on a live connection whose server then hangs: the continuation times
      // out; once slapd runs again, pages are right (a fresh sort, then its kept list).
      for (let round = 0; round < 2; round++) {
        expect(uidsOf(await page(1))).toEqual(['alice', 'bob']);
        process.kill(slapd.pid, 'SIGSTOP');
        try {
          await stopped(slapd.pid);
          const hung = await Promise.allSettled([page(3)]);
          expect(hung[0]?.status).toBe('rejected');
        } finally {
          process.kill(slapd.pid, 'SIGCONT');
        }
        expect(uidsOf(await page(3))).toEqual(['carol', 'dave']);
        expect(uidsOf(await page(5))).toEqual(['erin']);
      }
      expect(warnings.filter((message) => SORTED_LIST_WARNING.test(message))).toHaveLength(1);
    } finally {
      await lists.close();
    }
  });

  it('reads and writes again after slapd restarts, with the same Directory object', async () => {
    const warnings: string[] = [];
    // The logger shows the pool noticed the lost connections (rather than never having opened them).
    const restartable = directoryFor(
      slapd,
      { poolSize: 2 },
      { warn: (_, message) => warnings.push(message), info() {} },
    );
    try {
      // Open both pooled connections.
      await Promise.all([
        restartable.read(`uid=alice,${PEOPLE}`, ['uid']),
        restartable.read(`uid=bob,${PEOPLE}`, ['uid']),
      ]);
      const pidBefore = slapd.pid;
      await slapd.restart();
      expect(slapd.pid).not.toBe(pidBefore);

      expect(text(await restartable.read(`uid=alice,${PEOPLE}`, ['uid']), 'uid')).toBe('alice');
      expect(text(await restartable.read(`uid=bob,${PEOPLE}`, ['uid']), 'uid')).toBe('bob');
      await restartable.modify(`uid=carol,${PEOPLE}`, [
        { operation: 'replace', attribute: 'title', values: ['Back'] },
      ]);
      expect(await rawValues(slapd, `uid=carol,${PEOPLE}`, 'title')).toEqual(['Back']);
      expect(warnings.some((message) => message.includes('connection lost'))).toBe(true);
    } finally {
      await restartable.close();
    }
  });

  it('gives up on a hung slapd within the operation timeout', async () => {
    await directory.read(`uid=alice,${PEOPLE}`, ['uid']);
    process.kill(slapd.pid, 'SIGSTOP');
    try {
      await stopped(slapd.pid);
      const read = await timed(directory.read(`uid=alice,${PEOPLE}`, ['uid']));
      expect(read.outcome.status).toBe('rejected');
      expect((read.outcome as PromiseRejectedResult).reason).toBeInstanceOf(UnavailableError);
      // One timed-out attempt, one retry on a fresh connection: bounded, not a hang.
      expect(read.ms).toBeLessThan(OPERATION_TIMEOUT_MS * 2 + 1_000);

      const write = await timed(
        directory.modify(`uid=alice,${PEOPLE}`, [
          { operation: 'replace', attribute: 'title', values: ['x'] },
        ]),
      );
      expect((write.outcome as PromiseRejectedResult).reason).toBeInstanceOf(UnavailableError);
      expect(write.ms).toBeLessThan(OPERATION_TIMEOUT_MS + 1_000);

      const ping = await timed(directory.ping());
      expect((ping.outcome as PromiseRejectedResult).reason).toBeInstanceOf(UnavailableError);
    } finally {
      process.kill(slapd.pid, 'SIGCONT');
    }
    expect(text(await directory.read(`uid=alice,${PEOPLE}`, ['uid']), 'uid')).toBe('alice');
  });

  it('rejects every operation promptly with UnavailableError once slapd is stopped', async () => {
    await directory.read(`uid=alice,${PEOPLE}`, ['uid']);
    await slapd.stop();
    // Each promise is observed from the start (timed), so none rejects unhandled.
    const attempts = {
      read: timed(directory.read(`uid=alice,${PEOPLE}`, ['uid'])),
      search: timed(
        directory.search({ base: PEOPLE, scope: 'one', filter: { type: 'true' }, attributes: ['uid'] }),
      ),
      add: timed(
        directory.add(`uid=late,${PEOPLE}`, {
          objectClass: ['inetOrgPerson'],
          uid: ['late'],
          cn: ['l'],
          sn: ['l'],
        }),
      ),
      modify: timed(
        directory.modify(`uid=bob,${PEOPLE}`, [{ operation: 'replace', attribute: 'title', values: ['x'] }]),
      ),
      rename: timed(directory.rename(`uid=bob,${PEOPLE}`, `uid=robert,${PEOPLE}`)),
      delete: timed(directory.delete(`uid=bob,${PEOPLE}`)),
      ping: timed(directory.ping()),
    };
    for (const [name, attempt] of Object.entries(attempts)) {
      const { outcome, ms } = await attempt;
      expect(outcome.status, name).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as Error;
      expect(reason, name).toBeInstanceOf(UnavailableError);
      // Refused connections: nothing was sent, so no "may have been applied" doubt.
      expect(reason.message, name).not.toMatch(/may or may not/);
      expect(ms, name).toBeLessThan(500);
    }
  });
});

/** Waits (bounded) until the kernel reports the process stopped, so no request races the signal. */
async function stopped(pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // state is the field after the parenthesised command name (proc(5))
    if (/\) [Tt] /.test(stat)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`process ${pid} did not stop`);
}

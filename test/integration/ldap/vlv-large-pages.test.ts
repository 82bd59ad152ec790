/**
 * Offset pages with a count over the VLV window size (500), against a real slapd with 3,000
 * users: answered as VLV windows read from one kept sorted list, not by a paged walk that sorts
 * and sends the whole result for every page (issue 17). Expected pages come from a raw root
 * search sorted here, never from the adapter. Timings are printed, not asserted.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSlapd } from '../../../src/localdev/slapd.ts';
import type { Directory, DirFilter, SortKey } from '../../../src/ports/directory.ts';
import {
  directoryFor,
  generatedUsers,
  ldapBinariesMissing,
  PEOPLE,
  rootClient,
  startSeededSlapd,
  writeUsersLdif,
} from './helpers.ts';

const USERS = 3_000;
const PEOPLE_FILTER: DirFilter = { type: 'equal', attribute: 'objectClass', value: 'inetOrgPerson' };
const BY_UID: SortKey[] = [{ attribute: 'uid', orderingRule: 'caseIgnoreOrderingMatch' }];

/** Every uid under ou=People, sorted here (case-insensitively, as caseIgnoreOrderingMatch). */
async function sortedUids(root: Client): Promise<string[]> {
  const { searchEntries } = await root.search(PEOPLE, {
    scope: 'one',
    filter: '(objectClass=inetOrgPerson)',
    attributes: ['uid'],
  });
  const uids = searchEntries.map((entry) => String(entry.uid));
  return uids.sort((a, b) =>
    a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0,
  );
}

describe.skipIf(ldapBinariesMissing)('LDAP directory: offset pages of more than 500 entries', () => {
  let slapd: RunningSlapd;
  let root: Client;
  const directories: Directory[] = [];

  beforeAll(async () => {
    const ldif = await writeUsersLdif(generatedUsers(USERS, 'big'));
    try {
      slapd = await startSeededSlapd([ldif.file]);
    } finally {
      await ldif.remove();
    }
    root = await rootClient(slapd);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(directories.map((directory) => directory.close()));
    await root?.unbind();
    await slapd?.stop();
  });

  const directoryWith = (sortedListReuseMs: number) => {
    const directory = directoryFor(slapd, { sortedListReuseMs, operationTimeoutMs: 10_000 });
    directories.push(directory);
    return directory;
  };
  const page = (directory: Directory, startIndex: number, count: number) =>
    directory.search({
      base: PEOPLE,
      scope: 'one',
      filter: PEOPLE_FILTER,
      attributes: ['uid'],
      sort: BY_UID,
      page: { kind: 'offset', startIndex, count },
    });
  const uids = (result: { entries: Array<{ attributes: Record<string, unknown[]> }> }) =>
    result.entries.map((entry) => String(entry.attributes.uid?.[0]));

  it.each([
    [1, 1000],
    [1001, 1000],
    [2501, 1000],
    [1, 1234],
    [2999, 1000],
    [3001, 1000],
  ])('startIndex %i count %i: the right entries in order, the total', async (startIndex, count) => {
    const expected = await sortedUids(root);
    const result = await page(directoryWith(0), startIndex, count);
    expect(result.total).toBe(expected.length);
    expect(uids(result)).toEqual(expected.slice(startIndex - 1, startIndex - 1 + count));
  });

  it('a page of 1,000 is read from one sorted list the directory kept (VLV), not a walk', async () => {
    const before = await sortedUids(root);
    const directory = directoryWith(60_000);
    const first = await page(directory, 1, 1000);
    expect(uids(first)).toEqual(before.slice(0, 1000));
    // Sorts first: a fresh sort or a paged walk would now see every position move by one.
    await root.add(`uid=aaa-outside,${PEOPLE}`, {
      objectClass: ['inetOrgPerson'],
      uid: 'aaa-outside',
      cn: 'x',
      sn: 'Outside',
    });
    try {
      const second = await page(directory, 1001, 1000);
      expect(second.total).toBe(before.length);
      expect(uids(second)).toEqual(before.slice(1000, 2000));
    } finally {
      await root.del(`uid=aaa-outside,${PEOPLE}`);
    }
  });

  it('prints what a page of 1,000 costs beside two pages of 500 (figures, not asserted)', async () => {
    const timed = async (reuseMs: number, label: string, pages: [number, number][]) => {
      const directory = directoryWith(reuseMs);
      await page(directory, 1, 10); // connection and capabilities, unmeasured
      const rounds = 10;
      const started = performance.now();
      for (let round = 0; round < rounds; round++)
        for (const [startIndex, count] of pages) await page(directory, startIndex, count);
      const ms = (performance.now() - started) / rounds;
      console.log(
        `${USERS} users, sortedListReuseMs ${reuseMs}, ${label}: ${ms.toFixed(1)} ms (mean of ${rounds})`,
      );
    };
    for (const reuseMs of [0, 10_000]) {
      await timed(reuseMs, 'one page startIndex=1001 count=1000', [[1001, 1000]]);
      await timed(reuseMs, 'two pages startIndex=1001,1501 count=500', [
        [1001, 500],
        [1501, 500],
      ]);
    }
  }, 60_000);
});

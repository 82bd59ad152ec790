/**
 * VLV pages read from the sorted list the server kept (the VLV contextID), against a real slapd.
 * Reuse is observable: an entry added or deleted with a raw root client, behind the adapter's back,
 * shows in a fresh sort but not in a kept list. Expected windows come from raw root searches
 * sorted here, never from the adapter.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSlapd } from '../../../src/localdev/slapd.ts';
import type { Directory, DirFilter, SearchRequest, SortKey } from '../../../src/ports/directory.ts';
import {
  directoryFor,
  generatedUsers,
  ldapBinariesMissing,
  PEOPLE,
  rootClient,
  startSeededSlapd,
  writeUsersLdif,
} from './helpers.ts';

const PEOPLE_FILTER: DirFilter = { type: 'equal', attribute: 'objectClass', value: 'inetOrgPerson' };
const BY_UID: SortKey[] = [{ attribute: 'uid', orderingRule: 'caseIgnoreOrderingMatch' }];
const BY_UID_REVERSED: SortKey[] = [
  { attribute: 'uid', orderingRule: 'caseIgnoreOrderingMatch', reverse: true },
];
const BY_SN_THEN_UID: SortKey[] = [{ attribute: 'sn', orderingRule: 'caseIgnoreOrderingMatch' }, ...BY_UID];
/** Long enough that no list expires during a test that does not mean it to. */
const LONG_REUSE_MS = 60_000;

interface Person {
  uid: string;
  sn: string;
}

const lower = (value: string) => value.toLowerCase();
const byUid = (a: Person, b: Person) =>
  lower(a.uid) < lower(b.uid) ? -1 : lower(a.uid) > lower(b.uid) ? 1 : 0;
const bySnThenUid = (a: Person, b: Person) =>
  lower(a.sn) < lower(b.sn) ? -1 : lower(a.sn) > lower(b.sn) ? 1 : byUid(a, b);

/** Everyone under ou=People now, read with a raw root search (few entries: no paging needed). */
async function people(client: Client): Promise<Person[]> {
  const { searchEntries } = await client.search(PEOPLE, {
    scope: 'one',
    filter: '(objectClass=inetOrgPerson)',
    attributes: ['uid', 'sn'],
  });
  return searchEntries.map((entry) => ({ uid: String(entry.uid), sn: String(entry.sn) }));
}

describe.skipIf(ldapBinariesMissing)('LDAP directory: VLV pages from the sorted list the server kept', () => {
  let slapd: RunningSlapd;
  let root: Client;
  const directories: Directory[] = [];

  beforeAll(async () => {
    const ldif = await writeUsersLdif(generatedUsers(40));
    try {
      slapd = await startSeededSlapd([ldif.file]);
    } finally {
      await ldif.remove();
    }
    root = await rootClient(slapd);
  });

  afterAll(async () => {
    await Promise.all(directories.map((directory) => directory.close()));
    await root?.unbind();
    await slapd?.stop();
  });

  const directoryWith = (sortedListReuseMs: number) => {
    const directory = directoryFor(slapd, { sortedListReuseMs });
    directories.push(directory);
    return directory;
  };
  const page = (
    directory: Directory,
    startIndex: number,
    count: number,
    request: Partial<SearchRequest> = {},
  ) =>
    directory.search({
      base: PEOPLE,
      scope: 'one',
      filter: PEOPLE_FILTER,
      attributes: ['uid'],
      sort: BY_UID,
      page: { kind: 'offset', startIndex, count },
      ...request,
    });
  const uids = (result: { entries: Array<{ attributes: Record<string, unknown[]> }> }) =>
    result.entries.map((entry) => String(entry.attributes.uid?.[0]));
  const window = (list: Person[], startIndex: number, count: number) =>
    list.slice(startIndex - 1, startIndex - 1 + count).map((person) => person.uid);

  /** An entry written with the root client: the adapter under test does not see the write. */
  const addBehindItsBack = (uid: string) =>
    root.add(`uid=${uid},${PEOPLE}`, { objectClass: ['inetOrgPerson'], uid, cn: uid, sn: 'Outside' });
  const deleteBehindItsBack = (uid: string) => root.del(`uid=${uid},${PEOPLE}`);

  it('reads later pages from the kept list until a write through the adapter', async () => {
    const before = (await people(root)).sort(byUid);
    const directory = directoryWith(LONG_REUSE_MS);
    const first = await page(directory, 1, 10);
    expect(first.total).toBe(before.length);
    expect(uids(first)).toEqual(window(before, 1, 10));

    // Sorts first: every position of a fresh sort moves by one.
    await addBehindItsBack('aaa-outside');
    try {
      const after = (await people(root)).sort(byUid);
      expect(after[0]?.uid).toBe('aaa-outside');

      // The kept list is as of the first page: the same total, the same positions.
      const kept = await page(directory, 11, 10);
      expect(kept.total).toBe(before.length);
      expect(uids(kept)).toEqual(window(before, 11, 10));

      // The same page sorted afresh (no reuse) sees the new entry.
      const fresh = await page(directoryWith(0), 11, 10);
      expect(fresh.total).toBe(after.length);
      expect(uids(fresh)).toEqual(window(after, 11, 10));

      // A write through the adapter ends every kept list.
      await directory.modify(`uid=gen0001,${PEOPLE}`, [
        { operation: 'replace', attribute: 'description', values: ['touched'] },
      ]);
      const afterWrite = await page(directory, 11, 10);
      expect(afterWrite.total).toBe(after.length);
      expect(uids(afterWrite)).toEqual(window(after, 11, 10));
    } finally {
      await deleteBehindItsBack('aaa-outside');
    }
  });

  it('stops reusing a list once sortedListReuseMs have passed since its sort', async () => {
    const before = (await people(root)).sort(byUid);
    const directory = directoryWith(300);
    await page(directory, 1, 5);
    await addBehindItsBack('aab-outside');
    try {
      expect((await page(directory, 6, 5)).total).toBe(before.length);
      await new Promise((resolve) => setTimeout(resolve, 400));
      const after = (await people(root)).sort(byUid);
      const expired = await page(directory, 6, 5);
      expect(expired.total).toBe(after.length);
      expect(uids(expired)).toEqual(window(after, 6, 5));
    } finally {
      await deleteBehindItsBack('aab-outside');
    }
  });

  it('leaves out an entry deleted since the list was made', async () => {
    await addBehindItsBack('gen0005a');
    const withTemporary = (await people(root)).sort(byUid);
    const position = withTemporary.findIndex((person) => person.uid === 'gen0005a') + 1;
    const directory = directoryWith(LONG_REUSE_MS);
    expect(uids(await page(directory, position, 3))).toEqual(window(withTemporary, position, 3));

    await deleteBehindItsBack('gen0005a');
    const kept = await page(directory, position - 1, 3);
    expect(kept.total).toBe(withTemporary.length);
    // The list still has a place for it, but the entry is read at page time, and it is gone.
    expect(uids(kept)).toEqual(window(withTemporary, position - 1, 3).filter((uid) => uid !== 'gen0005a'));
  });

  it("never answers a query from another query's list", async () => {
    const everyone = await people(root);
    const directory = directoryWith(LONG_REUSE_MS);
    const cases: Array<{ request: Partial<SearchRequest>; expected: Person[] }> = [
      { request: { sort: BY_UID }, expected: [...everyone].sort(byUid) },
      { request: { sort: BY_UID_REVERSED }, expected: [...everyone].sort(byUid).reverse() },
      { request: { sort: BY_SN_THEN_UID }, expected: [...everyone].sort(bySnThenUid) },
      {
        request: {
          sort: BY_UID,
          filter: { type: 'substring', attribute: 'uid', initial: 'gen002', any: [] },
        },
        expected: everyone.filter((person) => person.uid.startsWith('gen002')).sort(byUid),
      },
    ];
    // Two rounds: in the second, each query has a list kept from the first.
    for (let round = 0; round < 2; round++) {
      for (const { request, expected } of cases) {
        const result = await page(directory, 3, 4, request);
        expect(result.total).toBe(expected.length);
        expect(uids(result)).toEqual(window(expected, 3, 4));
      }
    }
  });

  it('answers concurrent pages of one query, each with its own window', async () => {
    const everyone = (await people(root)).sort(byUid);
    const directory = directoryWith(LONG_REUSE_MS);
    await page(directory, 1, 1);
    const starts = Array.from({ length: 12 }, (_, index) => 1 + index * 3);
    const results = await Promise.all(starts.map((startIndex) => page(directory, startIndex, 4)));
    for (const [index, result] of results.entries()) {
      expect(result.total).toBe(everyone.length);
      expect(uids(result)).toEqual(window(everyone, starts[index] ?? 0, 4));
    }
  });

  it('keeps working past sssvlv-maxperconn lists on one connection, reusing them', async () => {
    // 16 lists per connection here: 24 distinct queries need new ones, and each is read again.
    const everyone = await people(root);
    const single = directoryFor(slapd, { poolSize: 1, sortedListReuseMs: LONG_REUSE_MS });
    directories.push(single);
    for (let round = 0; round < 2; round++) {
      for (let query = 0; query < 24; query++) {
        const prefix = `gen00${String(query % 4)}`;
        const sort = query < 12 ? BY_UID : BY_UID_REVERSED;
        const expected = everyone.filter((person) => person.uid.startsWith(prefix)).sort(byUid);
        if (sort === BY_UID_REVERSED) expected.reverse();
        const startIndex = 1 + (query % 3);
        const result = await single.search({
          base: PEOPLE,
          scope: 'one',
          filter: {
            type: 'and',
            filters: [
              { type: 'substring', attribute: 'uid', initial: prefix, any: [] },
              // A different (always true) clause per query: 24 different filters.
              { type: 'not', filter: { type: 'equal', attribute: 'uid', value: `absent${query}` } },
            ],
          },
          attributes: ['uid'],
          sort,
          page: { kind: 'offset', startIndex, count: 2 },
        });
        expect(result.total).toBe(expected.length);
        expect(uids(result)).toEqual(window(expected, startIndex, 2));
      }
    }
  });
});

/**
 * Offset windows against a real slapd holding 625 users: server-side sort + VLV when sorted, simple
 * paged results when not, both past the service account's soft size limit of 500. Expected windows
 * come from a raw root-bound paged search, sorted here, never from the adapter itself.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSlapd } from '../../../src/localdev/slapd.ts';
import type { Directory, DirFilter, PageRequest, SearchRequest } from '../../../src/ports/directory.ts';
import { TooManyResultsError } from '../../../src/ports/errors.ts';
import {
  directoryFor,
  generatedUsers,
  ldapBinariesMissing,
  PEOPLE,
  rootClient,
  SAMPLE_UIDS,
  startSeededSlapd,
  writeUsersLdif,
} from './helpers.ts';

const GENERATED = 620;
const TOTAL = GENERATED + SAMPLE_UIDS.length;
const PEOPLE_FILTER: DirFilter = { type: 'equal', attribute: 'objectClass', value: 'inetOrgPerson' };
const BY_UID = [{ attribute: 'uid', orderingRule: 'caseIgnoreOrderingMatch' }];

interface Person {
  dn: string;
  uid: string;
  sn: string;
}

/** Everyone under ou=People in the server's own order, walked with a raw paged search as root. */
async function allPeopleInServerOrder(client: Client): Promise<Person[]> {
  const people: Person[] = [];
  for await (const page of client.searchPaginated(PEOPLE, {
    scope: 'one',
    filter: '(objectClass=inetOrgPerson)',
    attributes: ['uid', 'sn'],
    paged: { pageSize: 200 },
  })) {
    for (const entry of page.searchEntries)
      people.push({ dn: entry.dn, uid: String(entry.uid), sn: String(entry.sn) });
  }
  return people;
}

/** caseIgnoreOrderingMatch on these plain ASCII values is a comparison of the lower-cased strings. */
function compareIgnoringCase(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  return x < y ? -1 : x > y ? 1 : 0;
}

describe.skipIf(ldapBinariesMissing)('LDAP directory: paging', () => {
  let slapd: RunningSlapd;
  let directory: Directory;
  let serverOrder: Person[];
  let byUid: Person[];

  beforeAll(async () => {
    const ldif = await writeUsersLdif(generatedUsers(GENERATED));
    try {
      slapd = await startSeededSlapd([ldif.file]);
    } finally {
      await ldif.remove();
    }
    directory = directoryFor(slapd);
    const client = await rootClient(slapd);
    try {
      serverOrder = await allPeopleInServerOrder(client);
    } finally {
      await client.unbind();
    }
    byUid = [...serverOrder].sort((a, b) => compareIgnoringCase(a.uid, b.uid));
  });

  afterAll(async () => {
    await directory?.close();
    await slapd?.stop();
  });

  const search = (request: Partial<SearchRequest>) =>
    directory.search({ base: PEOPLE, scope: 'one', filter: PEOPLE_FILTER, attributes: ['uid'], ...request });
  const uids = (result: { entries: Array<{ attributes: Record<string, unknown[]> }> }) =>
    result.entries.map((entry) => String(entry.attributes.uid?.[0]));

  it('has the seeded population (the reference list is complete)', () => {
    expect(serverOrder).toHaveLength(TOTAL);
    expect(new Set(serverOrder.map((person) => person.uid))).toEqual(
      new Set([...SAMPLE_UIDS, ...generatedUsers(GENERATED).map((user) => user.uid)]),
    );
  });

  it('refuses an unpaged search past the soft limit of 500 for the service account', async () => {
    await expect(search({})).rejects.toBeInstanceOf(TooManyResultsError);
  });

  describe('sorted: server-side sort + VLV', () => {
    it.each([
      [1, 10],
      [2, 5],
      [3, 7],
      [300, 25],
      [501, 30],
      [620, 10],
      [TOTAL, 1],
    ])('returns the window startIndex=%i count=%i and the total', async (startIndex, count) => {
      const result = await search({ sort: BY_UID, page: { kind: 'offset', startIndex, count } });
      expect(result.total).toBe(TOTAL);
      expect(uids(result)).toEqual(
        byUid.slice(startIndex - 1, startIndex - 1 + count).map((person) => person.uid),
      );
    });

    it('returns nothing but the total past the end, and for count 0', async () => {
      const beyond = await search({
        sort: BY_UID,
        page: { kind: 'offset', startIndex: TOTAL + 1, count: 5 },
      });
      expect(beyond).toEqual({ entries: [], total: TOTAL });
      const countOnly = await search({ sort: BY_UID, page: { kind: 'offset', startIndex: 1, count: 0 } });
      expect(countOnly).toEqual({ entries: [], total: TOTAL });
    });

    it('sorts in reverse and by two keys', async () => {
      const reversed = await search({
        sort: [{ ...BY_UID[0], attribute: 'uid', reverse: true }],
        page: { kind: 'offset', startIndex: 1, count: 8 },
      });
      expect(uids(reversed)).toEqual(
        [...byUid]
          .reverse()
          .slice(0, 8)
          .map((person) => person.uid),
      );

      const bySnThenUid = [...serverOrder].sort(
        (a, b) => compareIgnoringCase(a.sn, b.sn) || compareIgnoringCase(a.uid, b.uid),
      );
      const window = await search({
        sort: [{ attribute: 'sn', orderingRule: 'caseIgnoreOrderingMatch' }, ...BY_UID],
        page: { kind: 'offset', startIndex: 85, count: 40 },
      });
      expect(uids(window)).toEqual(bySnThenUid.slice(84, 124).map((person) => person.uid));
    });

    it('windows a filtered list, and an empty one', async () => {
      const filter: DirFilter = { type: 'substring', attribute: 'uid', initial: 'gen01', any: [] };
      const result = await search({
        filter,
        sort: BY_UID,
        page: { kind: 'offset', startIndex: 95, count: 10 },
      });
      expect(result.total).toBe(100);
      expect(uids(result)).toEqual(['gen0194', 'gen0195', 'gen0196', 'gen0197', 'gen0198', 'gen0199']);

      const none = await search({
        filter: { type: 'equal', attribute: 'uid', value: 'nobody' },
        sort: BY_UID,
        page: { kind: 'offset', startIndex: 1, count: 10 },
      });
      expect(none).toEqual({ entries: [], total: 0 });
    });

    it('serves windows larger than the soft size limit, and "everything"', async () => {
      const big = await search({ sort: BY_UID, page: { kind: 'offset', startIndex: 11, count: 600 } });
      expect(big.total).toBe(TOTAL);
      expect(uids(big)).toEqual(byUid.slice(10, 610).map((person) => person.uid));
      const everything = await search({
        sort: BY_UID,
        page: { kind: 'offset', startIndex: 1, count: Number.MAX_SAFE_INTEGER },
      });
      expect(uids(everything)).toEqual(byUid.map((person) => person.uid));
    });

    it('keeps working past sssvlv-maxperconn VLV searches on one connection', async () => {
      // OpenLDAP keeps every VLV sort context until the connection closes; 16 per connection here.
      // Kept lists are not reused, so that every search asks the server for a new one.
      const single = directoryFor(slapd, { poolSize: 1, sortedListReuseMs: 0 });
      try {
        for (let round = 0; round < 40; round++) {
          const result = await single.search({
            base: PEOPLE,
            scope: 'one',
            filter: PEOPLE_FILTER,
            attributes: ['uid'],
            sort: BY_UID,
            page: { kind: 'offset', startIndex: round * 15 + 1, count: 3 },
          });
          expect(uids(result)).toEqual(byUid.slice(round * 15, round * 15 + 3).map((person) => person.uid));
        }
      } finally {
        await single.close();
      }
    });
  });

  describe('unsorted: simple paged results', () => {
    it.each([
      [1, 5],
      [498, 5],
      [500, 1],
      [590, 50],
      [TOTAL, 3],
    ])(
      'returns the window startIndex=%i count=%i in server order and the total',
      async (startIndex, count) => {
        const result = await search({ page: { kind: 'offset', startIndex, count } });
        expect(result.total).toBe(TOTAL);
        expect(result.entries.map((entry) => entry.dn)).toEqual(
          serverOrder.slice(startIndex - 1, startIndex - 1 + count).map((person) => person.dn),
        );
      },
    );

    it('returns nothing but the total past the end, and for count 0', async () => {
      expect(await search({ page: { kind: 'offset', startIndex: TOTAL + 1, count: 5 } })).toEqual({
        entries: [],
        total: TOTAL,
      });
      expect(await search({ page: { kind: 'offset', startIndex: 1, count: 0 } })).toEqual({
        entries: [],
        total: TOTAL,
      });
    });

    it('returns everything for a count beyond any list', async () => {
      const everything = await search({
        page: { kind: 'offset', startIndex: 1, count: Number.MAX_SAFE_INTEGER },
      });
      expect(everything.entries.map((entry) => entry.dn)).toEqual(serverOrder.map((person) => person.dn));
    });

    it('runs concurrent walks on a single connection without mixing their cookies', async () => {
      const single = directoryFor(slapd, { poolSize: 1 });
      try {
        const windows = [1, 400, 601];
        const results = await Promise.all(
          windows.map((startIndex) =>
            single.search({
              base: PEOPLE,
              scope: 'one',
              filter: PEOPLE_FILTER,
              attributes: ['uid'],
              page: { kind: 'offset', startIndex, count: 4 },
            }),
          ),
        );
        results.forEach((result, index) => {
          const startIndex = windows[index] as number;
          expect(result.total).toBe(TOTAL);
          expect(result.entries.map((entry) => entry.dn)).toEqual(
            serverOrder.slice(startIndex - 1, startIndex + 3).map((person) => person.dn),
          );
        });
      } finally {
        await single.close();
      }
    });
  });

  describe('unpaged with sizeLimit', () => {
    it('returns everything up to the limit, past the soft limit of 500', async () => {
      const result = await search({ sizeLimit: TOTAL });
      expect(result.entries.map((entry) => entry.dn).sort()).toEqual(
        serverOrder.map((person) => person.dn).sort(),
      );
    });

    it('refuses when more entries match than the limit', async () => {
      await expect(search({ sizeLimit: TOTAL - 1 })).rejects.toBeInstanceOf(TooManyResultsError);
      await expect(search({ sizeLimit: 0 })).rejects.toBeInstanceOf(TooManyResultsError);
      const one = await search({ filter: { type: 'equal', attribute: 'uid', value: 'bob' }, sizeLimit: 1 });
      expect(uids(one)).toEqual(['bob']);
    });

    it('sorts an unpaged search on the server', async () => {
      const filter: DirFilter = { type: 'substring', attribute: 'uid', initial: 'gen000', any: [] };
      const result = await search({ filter, sort: [{ ...BY_UID[0], attribute: 'uid', reverse: true }] });
      expect(uids(result)).toEqual([
        'gen0009',
        'gen0008',
        'gen0007',
        'gen0006',
        'gen0005',
        'gen0004',
        'gen0003',
        'gen0002',
        'gen0001',
        'gen0000',
      ]);
    });
  });

  describe('cursor walks (RFC 9865 over RFC 2696 paged-results sessions)', () => {
    const cursorPage = (
      on: Directory,
      page: Omit<Extract<PageRequest, { kind: 'cursor' }>, 'kind'>,
      sort?: SearchRequest['sort'],
    ) =>
      on.search({
        base: PEOPLE,
        scope: 'one',
        filter: PEOPLE_FILTER,
        attributes: ['uid'],
        ...(sort ? { sort } : {}),
        page: { kind: 'cursor', ...page },
      });
    type Page = {
      entries: Array<{ attributes: Record<string, unknown[]> }>;
      total?: number;
      session?: string;
    };
    /** Walks the whole result with cursor pages of `count`; returns the uids and each page's result. */
    async function walk(
      on: Directory,
      count: number,
      sort?: SearchRequest['sort'],
      countOrder?: SearchRequest['sort'],
    ) {
      const pages: Page[] = [];
      const seen: string[] = [];
      let session: string | undefined;
      let total: number | undefined;
      // Bounded: one more page than the population needs.
      for (let i = 0; i <= Math.ceil(TOTAL / count); i++) {
        const result = await cursorPage(
          on,
          {
            startIndex: seen.length + 1,
            count,
            ...(session ? { session } : {}),
            ...(total !== undefined ? { total } : {}),
            ...(countOrder && total === undefined ? { countOrder } : {}),
          },
          sort,
        );
        pages.push(result);
        seen.push(...uids(result));
        total = result.total;
        session = result.session;
        if (seen.length >= (total ?? 0)) break;
      }
      return { seen, pages };
    }

    it('walks everyone once, unsorted in the server order, with the total on every page', async () => {
      const { seen, pages } = await walk(directory, 100);
      expect(seen).toEqual(serverOrder.map((person) => person.uid));
      expect(pages.every((page) => page.total === TOTAL)).toBe(true);
      // Pages after the first came from the session (only a session hands out a handle) ...
      expect(pages.slice(0, -1).every((page) => typeof page.session === 'string')).toBe(true);
      // ... and the last page closes it.
      expect(pages.at(-1)?.session).toBeUndefined();
    });

    it('an unsorted walk given a count order still walks in the server order, with the right total', async () => {
      const { seen, pages } = await walk(directory, 200, undefined, BY_UID);
      expect(seen).toEqual(serverOrder.map((person) => person.uid));
      expect(pages.every((page) => page.total === TOTAL)).toBe(true);
    });

    it('walks everyone once in the sort order, past the soft size limit', async () => {
      const { seen, pages } = await walk(directory, 150, BY_UID);
      expect(seen).toEqual(byUid.map((person) => person.uid));
      expect(pages).toHaveLength(Math.ceil(TOTAL / 150));
    });

    it('answers a handle it does not hold (another instance, wrong position or page size) from the offset path', async () => {
      const first = await search({ sort: BY_UID, page: { kind: 'cursor', startIndex: 1, count: 20 } });
      expect(first.session).toEqual(expect.any(String));
      const other = directoryFor(slapd);
      try {
        const elsewhere = await cursorPage(
          other,
          { startIndex: 21, count: 20, session: first.session ?? '', total: TOTAL },
          BY_UID,
        );
        expect(uids(elsewhere)).toEqual(byUid.slice(20, 40).map((person) => person.uid));
        expect(elsewhere.session).toBeUndefined();
      } finally {
        await other.close();
      }
      const resized = await search({
        sort: BY_UID,
        page: { kind: 'cursor', startIndex: 21, count: 7, session: first.session ?? '', total: TOTAL },
      });
      expect(uids(resized)).toEqual(byUid.slice(20, 27).map((person) => person.uid));
      expect(resized.session).toBeUndefined();
      // The session itself is still there for the page it was asked for.
      const continued = await search({
        sort: BY_UID,
        page: { kind: 'cursor', startIndex: 21, count: 20, session: first.session ?? '', total: TOTAL },
      });
      expect(uids(continued)).toEqual(byUid.slice(20, 40).map((person) => person.uid));
      expect(continued.session).toBe(first.session);
    });

    it('keeps at most cursorSessions open, closing the least recently used; 0 keeps none', async () => {
      const limited = directoryFor(slapd, { cursorSessions: 2 });
      const none = directoryFor(slapd, { cursorSessions: 0 });
      try {
        const open = async (on: Directory) => cursorPage(on, { startIndex: 1, count: 10 });
        const [a, b, c] = [await open(limited), await open(limited), await open(limited)];
        const next = (session: string | undefined) =>
          cursorPage(limited, { startIndex: 11, count: 10, session: session ?? '', total: TOTAL });
        const expected = serverOrder.slice(10, 20).map((person) => person.uid);
        const fromA = await next(a.session);
        expect(uids(fromA)).toEqual(expected);
        expect(fromA.session).toBeUndefined(); // evicted by c: served by the offset path
        for (const held of [b, c]) {
          const page = await next(held.session);
          expect(uids(page)).toEqual(expected);
          expect(page.session).toBe(held.session);
        }
        // Concurrent first pages never open more than the limit (the connections being opened count).
        const concurrent = directoryFor(slapd, { cursorSessions: 2 });
        try {
          const firsts = await Promise.all([1, 2, 3, 4, 5].map(() => open(concurrent)));
          for (const page of firsts) expect(uids(page)).toEqual(serverOrder.slice(0, 10).map((p) => p.uid));
          // Each new walk may close an idle one to make room: at most 2 handles still continue.
          const seconds = await Promise.all(
            firsts.map((page) =>
              cursorPage(concurrent, {
                startIndex: 11,
                count: 10,
                session: page.session ?? '',
                total: TOTAL,
              }),
            ),
          );
          for (const page of seconds) expect(uids(page)).toEqual(serverOrder.slice(10, 20).map((p) => p.uid));
          expect(seconds.filter((page) => page.session !== undefined).length).toBeLessThanOrEqual(2);
        } finally {
          await concurrent.close();
        }
        const unsessioned = await open(none);
        expect(unsessioned.session).toBeUndefined();
        expect(uids(unsessioned)).toEqual(serverOrder.slice(0, 10).map((person) => person.uid));
      } finally {
        await limited.close();
        await none.close();
      }
    });

    it('closes a session left idle past cursorIdleMs', async () => {
      const quick = directoryFor(slapd, { cursorIdleMs: 100 });
      try {
        const first = await cursorPage(quick, { startIndex: 1, count: 10 });
        expect(first.session).toEqual(expect.any(String));
        await new Promise((resolve) => setTimeout(resolve, 300));
        const later = await cursorPage(quick, {
          startIndex: 11,
          count: 10,
          session: first.session ?? '',
          total: TOTAL,
        });
        expect(uids(later)).toEqual(serverOrder.slice(10, 20).map((person) => person.uid));
        expect(later.session).toBeUndefined();
      } finally {
        await quick.close();
      }
    });
  });
});

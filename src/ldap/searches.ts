/**
 * Searches run in the directory: one LDAP filter, paging by the directory's controls (server-side
 * sort + VLV, else simple paged results), never a whole subtree pulled into memory to be filtered,
 * sorted or sliced here (docs/architecture.md §Queries).
 */
import type { Entry, SearchOptions } from 'ldapts';
import type { DirEntry, PageRequest, SearchRequest, SearchResult, SortKey } from '../ports/directory.ts';
import { RefusedError, TooManyResultsError } from '../ports/errors.ts';
import { lowerCaseSet, pendingRangesOf, toDirEntry } from './entries.ts';
import type { EntryReader } from './entry-reader.ts';
import { hasResultCode, ResultCode, toPortError } from './errors.ts';
import type { PagedSessions } from './paged-sessions.ts';
import type { OperationRunner } from './pool.ts';
import {
  checkWindow,
  NO_ATTRIBUTES,
  PAGE_SIZE,
  type Query,
  queryOf,
  querySignature,
  searchMode,
  sortControls,
} from './query.ts';
import type { CapabilitiesCache } from './root-dse.ts';
import type { VirtualListViews } from './vlv.ts';

/** Size limits up to this are sent to the server as they are (see #search()); beyond, a paged walk. */
const SMALL_SIZE_LIMIT = 100;

type CursorPage = Extract<PageRequest, { kind: 'cursor' }>;

export class Searches {
  readonly #pool: OperationRunner;
  readonly #reader: EntryReader;
  readonly #capabilities: CapabilitiesCache;
  readonly #virtualListViews: VirtualListViews;
  readonly #cursorSessions: PagedSessions;

  constructor(
    pool: OperationRunner,
    reader: EntryReader,
    capabilities: CapabilitiesCache,
    virtualListViews: VirtualListViews,
    cursorSessions: PagedSessions,
  ) {
    this.#pool = pool;
    this.#reader = reader;
    this.#capabilities = capabilities;
    this.#virtualListViews = virtualListViews;
    this.#cursorSessions = cursorSessions;
  }

  async search(request: SearchRequest): Promise<SearchResult> {
    const result = await this.#search(request);
    // Only AD splits long values into ranges; most searches have nothing left to fetch.
    if (result.entries.some((entry) => pendingRangesOf(entry).length > 0)) {
      await this.#reader.completeRanges(
        result.entries,
        lowerCaseSet(request.binaryAttributes),
        `search ${request.base}`,
      );
    }
    // A walk with a visitor (#pagedWindow) has already handed its entries out, page by page.
    if (request.each && result.entries.length > 0) {
      for (const entry of result.entries) request.each(entry);
      return { ...result, entries: [], total: result.total ?? result.entries.length };
    }
    return result;
  }

  async #search(request: SearchRequest): Promise<SearchResult> {
    const page = request.page;
    if (page) checkWindow(page.startIndex, page.count);
    const query = queryOf(request);
    const context = `search ${request.base}`;
    try {
      const capabilities = this.#capabilities.known ?? (await this.#capabilities.get());
      if (query.sort && !capabilities.serverSideSort) {
        throw new RefusedError(`${context}: the directory does not offer server-side sorting (RFC 2891)`);
      }
      if (page?.kind === 'cursor') {
        if (!capabilities.pagedResults) {
          throw new RefusedError(`${context}: cursors need simple paged results (RFC 2696)`);
        }
        return await this.#cursorPage(query, page, context);
      }
      if (page && request.expectFew) {
        try {
          const all = await this.#unpaged(query, SMALL_SIZE_LIMIT, context);
          return {
            entries: all.entries.slice(page.startIndex - 1, page.startIndex - 1 + page.count),
            total: all.entries.length,
          };
        } catch (error) {
          if (!(error instanceof TooManyResultsError)) throw error;
        }
      }
      if (page) return await this.#offsetWindow(query, page.startIndex, page.count, context, request.each);
      // Small limits (a lookup by id, a user's groups) are one plain search on a shared connection:
      // every server we target allows far more than SMALL_SIZE_LIMIT entries per search, so the
      // limit sent (sizeLimit + 1) is ours and ldapts' silent truncation cannot hide a lower one.
      // Larger limits walk pages, which needs a connection to itself.
      if (
        request.sizeLimit !== undefined &&
        request.sizeLimit > SMALL_SIZE_LIMIT &&
        capabilities.pagedResults
      ) {
        return await this.#pagedUpTo(query, request.sizeLimit, context);
      }
      return await this.#unpaged(query, request.sizeLimit, context);
    } catch (error) {
      throw toPortError(error, context);
    }
  }

  /**
   * The number of entries a query matches: a VLV content count when the directory offers VLV and
   * sort keys are known (one server-side sort, no entries sent), else a paged walk that asks for
   * no attributes (every entry's DN crosses the wire).
   */
  async #countMatches(query: Query, countOrder: SortKey[] | undefined, context: string): Promise<number> {
    const capabilities = this.#capabilities.known ?? (await this.#capabilities.get());
    const order = query.sort ?? (countOrder && countOrder.length > 0 ? countOrder : undefined);
    // Sorting only helps a count through VLV; a paged walk counts the same entries unsorted.
    const sort = order && capabilities.virtualListView && capabilities.serverSideSort ? order : undefined;
    return (await this.#offsetWindow({ ...query, sort }, 1, 0, context)).total ?? 0;
  }

  /**
   * A 1-based window of the result: a VLV window (RFC 2891 sort + VLV) when sorted and the server
   * offers VLV, else a simple paged walk (sorted by the server when sort keys are given).
   */
  async #offsetWindow(
    query: Query,
    startIndex: number,
    count: number,
    context: string,
    each?: (entry: DirEntry) => void,
  ): Promise<SearchResult> {
    const capabilities = this.#capabilities.known ?? (await this.#capabilities.get());
    if (query.sort && capabilities.virtualListView) {
      try {
        return await this.#virtualListViewWindows(query, startIndex, count);
      } catch (error) {
        // A window is still a search result: more entries than the server's size limit for
        // this account fail it. The sorted paged walk below is not subject to that limit.
        if (!hasResultCode(error, ResultCode.sizeLimitExceeded) || !capabilities.pagedResults) throw error;
      }
    }
    if (!capabilities.pagedResults) {
      throw new RefusedError(`${context}: the directory offers neither VLV nor simple paged results`);
    }
    return this.#pagedWindow(query, startIndex, count, each);
  }

  /**
   * A window as VLV windows of at most PAGE_SIZE entries, the later ones read from the sorted list
   * the first one left: a page of 1,000 costs two of 500, where a paged walk would sort and send
   * the whole result for every such page (issue 17).
   */
  async #virtualListViewWindows(query: Query, startIndex: number, count: number): Promise<SearchResult> {
    if (count <= PAGE_SIZE) return this.#virtualListViews.window(query, startIndex, count);
    const entries: DirEntry[] = [];
    let total: number | undefined;
    for (let offset = startIndex; offset < startIndex + count; offset += PAGE_SIZE) {
      const size = Math.min(PAGE_SIZE, startIndex + count - offset);
      const window = await this.#virtualListViews.window(query, offset, size);
      total ??= window.total;
      for (const entry of window.entries) entries.push(entry);
      // Past the end of the list: no later window has entries.
      if (window.entries.length < size) break;
    }
    return { entries, ...(total !== undefined ? { total } : {}) };
  }

  /**
   * One page of an RFC 9865 cursor walk. Pages after the first come from the paged search a
   * session keeps open (the server's RFC 2696 cookie) when this process holds it; otherwise from
   * the offset path in the same order (VLV with the sort keys, or a paged walk in the directory's
   * order when unsorted), so a cursor issued by another instance or an evicted session still gives
   * the right page. The first page counts the matches (totalResults) and opens the session.
   */
  async #cursorPage(query: Query, page: CursorPage, context: string): Promise<SearchResult> {
    // A paged session hands out entries as its first search asked for them: attributes included.
    const signature = JSON.stringify([querySignature(query), query.options.attributes]);
    const toEntries = (raw: Entry[]) => raw.map((entry) => toDirEntry(entry, query.binary));
    if (page.session !== undefined && page.total !== undefined) {
      const next = await this.#cursorSessions.continue(
        page.session,
        signature,
        page.startIndex,
        page.count,
        page.total,
      );
      if (next) {
        return {
          entries: toEntries(next.entries),
          total: page.total,
          ...(next.session ? { session: next.session } : {}),
        };
      }
    }
    const total = page.total ?? (await this.#countMatches(query, page.countOrder, context));
    if (page.startIndex === 1 && page.count > 0 && total > 0) {
      const controls = sortControls(query);
      const first = await this.#cursorSessions.start(
        query.base,
        query.options,
        controls,
        signature,
        page.count,
        total,
      );
      if (first) {
        return {
          entries: toEntries(first.entries),
          total,
          ...(first.session ? { session: first.session } : {}),
        };
      }
    }
    if (page.count === 0 || page.startIndex > total) return { entries: [], total };
    const window = await this.#offsetWindow(query, page.startIndex, page.count, context);
    return { entries: window.entries, total };
  }

  /**
   * Offset window by walking simple paged results (RFC 2696) to the end: only the window is kept,
   * the rest is counted for the total.
   */
  async #pagedWindow(
    query: Query,
    startIndex: number,
    count: number,
    each?: (entry: DirEntry) => void,
  ): Promise<SearchResult> {
    const options: SearchOptions = {
      ...query.options,
      ...(count === 0 ? { attributes: [NO_ATTRIBUTES] } : {}),
      paged: { pageSize: PAGE_SIZE },
    };
    return this.#pool.run(
      async (client) => {
        const entries: DirEntry[] = [];
        let position = 0;
        const controls = sortControls(query);
        for await (const page of client.searchPaginated(query.base, options, controls)) {
          const window: DirEntry[] = [];
          for (const raw of page.searchEntries) {
            position++;
            if (position >= startIndex && position < startIndex + count)
              window.push(toDirEntry(raw, query.binary));
          }
          if (!each) {
            entries.push(...window);
            continue;
          }
          // Visited page by page: only one page of entries is alive at a time.
          await this.#reader.completeRanges(window, query.binary, `search ${query.base}`);
          for (const entry of window) each(entry);
        }
        return { entries, total: position };
      },
      searchMode(query, { pagedWalk: true }),
    );
  }

  /**
   * Unpaged search with a size limit, done as a paged walk that stops after sizeLimit + 1 entries.
   * Passing sizeLimit to the server instead would hide a lower server-side limit: ldapts reports
   * sizeLimitExceeded as success whenever the request carried a limit.
   */
  async #pagedUpTo(query: Query, sizeLimit: number, context: string): Promise<SearchResult> {
    const options: SearchOptions = {
      ...query.options,
      paged: { pageSize: Math.min(sizeLimit + 1, PAGE_SIZE) },
    };
    return this.#pool.run(
      async (client) => {
        const entries: DirEntry[] = [];
        const controls = sortControls(query);
        for await (const page of client.searchPaginated(query.base, options, controls)) {
          for (const raw of page.searchEntries) {
            if (entries.length === sizeLimit) {
              throw new TooManyResultsError(`${context}: more than ${sizeLimit} entries match`);
            }
            entries.push(toDirEntry(raw, query.binary));
          }
        }
        return { entries, total: entries.length };
      },
      searchMode(query, { pagedWalk: true }),
    );
  }

  /** One plain search; the server's own size limit surfaces as TooManyResultsError. */
  async #unpaged(query: Query, sizeLimit: number | undefined, context: string): Promise<SearchResult> {
    const options: SearchOptions = {
      ...query.options,
      ...(sizeLimit !== undefined ? { sizeLimit: sizeLimit + 1 } : {}),
    };
    return this.#pool.run(async (client) => {
      const { searchEntries } = await client.search(query.base, options, sortControls(query));
      if (sizeLimit !== undefined && searchEntries.length > sizeLimit) {
        throw new TooManyResultsError(`${context}: more than ${sizeLimit} entries match`);
      }
      const entries = searchEntries.map((raw) => toDirEntry(raw, query.binary));
      return { entries, total: entries.length };
    }, searchMode(query));
  }
}

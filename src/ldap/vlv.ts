/**
 * Offset windows by server-side sort + VLV (RFC 2891 and the VLV draft): one search returns
 * exactly the window, and the VLV response's contentCount is the total. A later window of the same
 * query is read from the sorted list the server kept for the earlier one (its contextID, on the
 * same connection) while that list may be reused: see sorted-lists.ts.
 */
import { type Client, type Entry, UnknownStatusCodeError } from 'ldapts';
import { remainingMs } from '../lib/deadline.ts';
import type { DirEntry, SearchResult } from '../ports/directory.ts';
import { UnavailableError } from '../ports/errors.ts';
import { VirtualListViewControl } from './controls.ts';
import { toDirEntry } from './entries.ts';
import { hasResultCode, ResultCode } from './errors.ts';
import type { DirectoryLogger } from './options.ts';
import type { OperationRunner, PooledConnection } from './pool.ts';
import { checkSortResult, type Query, querySignature, searchMode, sortControl } from './query.ts';
import type { KeptList, SortedLists } from './sorted-lists.ts';

/**
 * Longest a page waits for the kept list of its query (read by another page, or being made), and
 * never past its deadline: another sort of the same query would only compete with the one awaited.
 */
const MAX_LIST_WAIT_MS = 10_000;

/** maxInt of the VLV request's INTEGER (0..maxInt) fields (RFC 4511 §4.1.1). */
const MAX_INT = 2 ** 31 - 1;

interface VirtualListViewWindow {
  result: SearchResult;
  /** Names the sorted list the server kept for this search, on the connection it ran on. */
  contextId: Buffer | undefined;
}

export class VirtualListViews {
  readonly #pool: OperationRunner;
  readonly #sortedLists: SortedLists<PooledConnection>;
  readonly #logger: DirectoryLogger;
  #warnedSortedListFailure = false;

  constructor(pool: OperationRunner, sortedLists: SortedLists<PooledConnection>, logger: DirectoryLogger) {
    this.#pool = pool;
    this.#sortedLists = sortedLists;
    this.#logger = logger;
  }

  /** The 1-based window of a sorted query, from a kept sorted list when one serves, else afresh. */
  async window(query: Query, startIndex: number, count: number): Promise<SearchResult> {
    const signature = querySignature(query);
    const lists = this.#sortedLists;
    const left = remainingMs(query.deadlineAt) ?? MAX_LIST_WAIT_MS;
    const waitUntil = performance.now() + Math.min(MAX_LIST_WAIT_MS, left);
    let waitedForASort = false;
    // One timer for the whole wait, cleared on the way out: every page settled wakes all the pages
    // waiting for the list, and a timer armed per wake-up (10 s each, never cleared) held tens of
    // thousands of timers and their promises under 64 concurrent pages (issue 17, heap snapshot).
    let timer: NodeJS.Timeout | undefined;
    let wakeWaiting: (() => void) | undefined;
    try {
      for (;;) {
        const kept = lists.take(signature);
        if (kept) {
          const result = await this.#fromKeptList(signature, kept, query, startIndex, count);
          if (result) return result;
          break;
        }
        // The sort waited for left no list (an empty result, a failure): sort afresh. If it left
        // one that another page is reading now, wait for that page instead.
        if (waitedForASort && !lists.keeps(signature)) break;
        // The list is read by another page, or being made: wait for it (bounded) rather than sort again.
        const available = lists.whenAvailable(signature);
        if (!available || performance.now() >= waitUntil) break;
        waitedForASort = !lists.keeps(signature);
        timer ??= setTimeout(() => wakeWaiting?.(), Math.max(0, waitUntil - performance.now()));
        await new Promise<void>((resolve) => {
          wakeWaiting = resolve;
          void available.then(resolve);
        });
      }
    } finally {
      clearTimeout(timer);
    }
    return this.#freshWindow(signature, query, startIndex, count);
  }

  /** A window sorted afresh by the directory; its list is kept for later pages of the query. */
  async #freshWindow(
    signature: string,
    query: Query,
    startIndex: number,
    count: number,
  ): Promise<SearchResult> {
    const lists = this.#sortedLists;
    // Stamped before the search: a write that starts meanwhile makes its list unusable.
    const generation = lists.generation;
    const takenAt = lists.now();
    lists.beginSort(signature);
    try {
      return await this.#pool.run(
        async (client, connection) => {
          const window = await virtualListViewSearch(client, query, startIndex, count);
          const list =
            window.contextId && window.result.total
              ? { connection, contextId: window.contextId, takenAt, generation }
              : undefined;
          lists.settle(signature, undefined, list);
          return window.result;
        },
        // sssvlv keeps a VLV sort until its connection closes (sssvlv.c frees it only when the list
        // is exhausted, which a window never does): see pool.ts on sortedPagesPerConnection.
        searchMode(query, { sortState: 'kept' }),
      );
    } finally {
      lists.endSort(signature);
    }
  }

  /** The window read from a kept list; undefined when the list or its connection is gone or failed. */
  async #fromKeptList(
    signature: string,
    kept: KeptList<PooledConnection>,
    query: Query,
    startIndex: number,
    count: number,
  ): Promise<SearchResult | undefined> {
    let answered: KeptList<PooledConnection> | undefined;
    try {
      const window = await this.#pool.runOn(
        kept.connection,
        (client) => virtualListViewSearch(client, query, startIndex, count, kept.contextId),
        query.deadlineAt,
      );
      if (!window) return undefined;
      // A new contextID may name the same list (Samba AD renames its list on every page) or a
      // fresh sort (OpenLDAP, when it no longer holds the list): either way its age is counted
      // from the kept list's sort, so a list is never reused past sortedListReuseMs.
      answered = window.contextId?.equals(kept.contextId)
        ? kept
        : window.contextId && window.result.total
          ? { ...kept, contextId: window.contextId }
          : undefined;
      return window.result;
    } catch (error) {
      // The list or its connection failed this search: the query is searched afresh.
      // Said once: a directory that refuses every contextID would otherwise fill the log.
      if (!this.#warnedSortedListFailure) {
        this.#warnedSortedListFailure = true;
        this.#logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'a page from the sorted list the directory kept failed; searching afresh. If this directory refuses VLV contextIDs, set ldap.sortedListReuseMs to 0 (said once per process)',
        );
      }
      return undefined;
    } finally {
      this.#sortedLists.settle(signature, kept, answered);
    }
  }
}

/**
 * One VLV search (RFC 2891 sort + VLV byOffset), optionally continuing the sorted list `contextId`
 * names; the answer's contextID comes back with the window.
 */
async function virtualListViewSearch(
  client: Client,
  query: Query,
  startIndex: number,
  count: number,
  contextId?: Buffer,
): Promise<VirtualListViewWindow> {
  const sort = sortControl(query.sort ?? []);
  const vlv = new VirtualListViewControl({
    beforeCount: 0,
    afterCount: Math.min(Math.max(count - 1, 0), MAX_INT),
    // Past maxInt there cannot be an entry: the server answers "offset out of range" + total.
    offset: Math.min(startIndex, MAX_INT),
    contentCount: 0,
    ...(contextId ? { contextId } : {}),
  });
  let searchEntries: Entry[];
  try {
    ({ searchEntries } = await client.search(query.base, query.options, [sort, vlv]));
  } catch (error) {
    // An offset past the end fails the search (OpenLDAP: result 76 with an offset-range
    // VLV result) but the response control still carries the list size: an empty window.
    if (vlv.response && startIndex > vlv.response.contentCount && !hasResultCode(error, ResultCode.busy)) {
      return { result: { entries: [], total: vlv.response.contentCount }, contextId: vlv.response.contextId };
    }
    throw error;
  }
  checkSortResult(sort);
  const response = vlv.response;
  if (!response) throw new UnavailableError('the directory sent no VLV response control');
  if (response.result !== 0) throw new UnknownStatusCodeError(response.result, 'VLV request failed');
  // A server may clamp an offset beyond the list to its last entry: keep only real positions.
  const entries: DirEntry[] = [];
  searchEntries.forEach((raw, index) => {
    const position = response.targetPosition + index;
    if (position >= startIndex && position < startIndex + count) entries.push(toDirEntry(raw, query.binary));
  });
  return { result: { entries, total: response.contentCount }, contextId: response.contextId };
}

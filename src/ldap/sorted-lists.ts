/**
 * Sorted results the directory keeps after a VLV search, reused for later pages of the same query.
 *
 * A VLV response may carry a contextID (draft-ietf-ldapext-ldapv3-vlv-09 §6.2), which the client
 * returns with its next request on the same connection. OpenLDAP's sssvlv then answers from the
 * sorted list it built for the first request instead of searching and sorting again (measured at
 * 100,000 entries: 237 ms for a fresh sort, 3–15 ms for a page of the kept list). The server keeps
 * that list until the connection closes whether or not it is reused.
 *
 * sssvlv matches the contextID alone: it does not compare the base, filter or sort keys (Samba AD
 * neither, and it names the same list anew on every page), so a list is only ever offered to the
 * query that made it (the signature), and its age counts from its first sort. The list is as of its first
 * search: which entries match and their order; each entry's attributes are read at the time of
 * the page. Hence a list is reused for a bounded time only, and never after a write through this
 * instance (`invalidate`). An empty result has no list (sssvlv frees it at once), so none is kept.
 */

/** A list kept on one connection of type C. */
export interface KeptList<C> {
  readonly connection: C;
  readonly contextId: Buffer;
  /** When the server built the list (performance.now()). */
  readonly takenAt: number;
  /** The write generation the search started in: a later write makes the list unusable. */
  readonly generation: number;
}

/** Distinct queries whose lists are remembered; the oldest is forgotten first. */
const DEFAULT_MAX_LISTS = 64;

export class SortedLists<C> {
  readonly #reuseMs: number;
  readonly #maxLists: number;
  readonly #now: () => number;
  readonly #lists = new Map<string, KeptList<C>>();
  /** Lists handed out and not yet settled: at most one search per list at a time. */
  readonly #inUse = new Set<KeptList<C>>();
  /** Queries whose first sort is in flight: its list will soon serve them (beginSort/endSort). */
  readonly #sorting = new Map<string, number>();
  /** Searches waiting for a query's list to be free or made (whenAvailable). */
  readonly #waiters = new Map<string, Array<() => void>>();
  #generation = 0;

  constructor(reuseMs: number, options: { maxLists?: number; now?: () => number } = {}) {
    this.#reuseMs = reuseMs;
    this.#maxLists = options.maxLists ?? DEFAULT_MAX_LISTS;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Stamp a search with this before it is sent; `keep` refuses lists from an earlier generation. */
  get generation(): number {
    return this.#generation;
  }

  now(): number {
    return this.#now();
  }

  /**
   * Called when a write starts and when it ends: the write may change which entries match or
   * their order, so no list made before it (or while it was in flight) is offered again.
   */
  invalidate(): void {
    this.#generation++;
    this.#lists.clear();
    for (const signature of [...this.#waiters.keys()]) this.#wake(signature);
  }

  /**
   * Resolves when this query's kept list, now read by another search, is settled, or when the
   * sort in flight for it ends; undefined when there is nothing to wait for. Under concurrent
   * pages of one query, waiting for the kept list (a few ms a page) beats sorting again (the
   * whole result, hundreds of ms at 100,000 entries), and it holds no more sort state on the
   * directory's connections.
   */
  whenAvailable(signature: string): Promise<void> | undefined {
    if (this.#reuseMs <= 0) return undefined;
    const list = this.#lists.get(signature);
    const listBusy = list !== undefined && this.#inUse.has(list);
    if (!listBusy && !this.#sorting.has(signature)) return undefined;
    return new Promise((resolve) => {
      const waiting = this.#waiters.get(signature) ?? [];
      waiting.push(resolve);
      this.#waiters.set(signature, waiting);
    });
  }

  /** A first sort of this query starts: searches of the same query may wait for its list. */
  beginSort(signature: string): void {
    this.#sorting.set(signature, (this.#sorting.get(signature) ?? 0) + 1);
  }

  /** The sort begun with beginSort ended (with or without a list). */
  endSort(signature: string): void {
    const running = (this.#sorting.get(signature) ?? 1) - 1;
    if (running > 0) this.#sorting.set(signature, running);
    else this.#sorting.delete(signature);
    this.#wake(signature);
  }

  #wake(signature: string): void {
    const waiting = this.#waiters.get(signature);
    if (!waiting) return;
    this.#waiters.delete(signature);
    for (const wake of waiting) wake();
  }

  /**
   * The kept list of this query, reserved for one search until `settle`: sssvlv stores the state
   * of each answer (target position, result) in the list itself, so two pages read from one list
   * at the same time could be answered with each other's positions.
   */
  take(signature: string): KeptList<C> | undefined {
    const list = this.#lists.get(signature);
    if (!list || this.#inUse.has(list)) return undefined;
    if (list.generation !== this.#generation || this.#now() - list.takenAt >= this.#reuseMs) {
      this.#lists.delete(signature);
      return undefined;
    }
    this.#inUse.add(list);
    return list;
  }

  /**
   * Ends a search: `taken` (from `take`) is released; `answered` is the list the server's answer
   * names (the same one, a fresh one if the server had to sort again, or none). A list is only
   * remembered if no write started since its search did, and while it is young enough to reuse.
   */
  settle(signature: string, taken: KeptList<C> | undefined, answered: KeptList<C> | undefined): void {
    try {
      this.#settle(signature, taken, answered);
    } finally {
      this.#wake(signature);
    }
  }

  #settle(signature: string, taken: KeptList<C> | undefined, answered: KeptList<C> | undefined): void {
    if (taken) {
      this.#inUse.delete(taken);
      if (this.#lists.get(signature) === taken && answered !== taken) this.#lists.delete(signature);
    }
    if (!answered || answered === taken) return;
    if (answered.generation !== this.#generation || this.#reuseMs <= 0) return;
    const current = this.#lists.get(signature);
    // Another search is reading the list already kept for this query: leave it in place.
    if (current && this.#inUse.has(current)) return;
    this.#lists.delete(signature);
    this.#lists.set(signature, answered);
    for (const oldest of this.#lists.keys()) {
      if (this.#lists.size <= this.#maxLists) break;
      this.#lists.delete(oldest);
    }
  }

  /** Whether a list is kept for this query (in use or not). */
  keeps(signature: string): boolean {
    return this.#lists.has(signature);
  }

  get size(): number {
    return this.#lists.size;
  }
}

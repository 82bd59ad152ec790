/**
 * The Directory port over ldapts. Queries run in the directory: one LDAP filter, paging by the
 * directory's controls (server-side sort + VLV, else simple paged results), never a whole subtree
 * pulled into memory to be filtered, sorted or sliced here.
 */
import {
  Attribute,
  Change,
  type Client,
  type Control,
  type Entry,
  type Filter,
  type SearchOptions,
  ServerSideSortingRequestControl,
  UnknownStatusCodeError,
} from 'ldapts';
import type {
  DirChange,
  DirEntry,
  Directory,
  DirectoryCapabilities,
  DirectorySubschema,
  DirValue,
  PageRequest,
  SearchRequest,
  SearchResult,
  SortKey,
  WriteOptions,
} from '../ports/directory.ts';
import {
  NotFoundError,
  PortError,
  RefusedError,
  TooManyResultsError,
  UnavailableError,
} from '../ports/errors.ts';
import { AssertionControl, PostReadControl, VirtualListViewControl } from './controls.ts';
import { lowerCaseSet, pendingRangesOf, toDirEntry } from './entries.ts';
import { hasResultCode, isTransportFailure, RequestNotSentError, ResultCode, toPortError } from './errors.ts';
import { alwaysTrue, toLdapFilter } from './filters.ts';
import { type DirectoryLogger, type LdapDirectoryOptions, silentLogger } from './options.ts';
import { PagedSessions } from './paged-sessions.ts';
import { ConnectionPool, type PooledConnection, type RunMode } from './pool.ts';
import { completeRanges } from './ranges.ts';
import { capabilitiesFromRootDse, ROOT_DSE_ATTRIBUTES } from './root-dse.ts';
import { type KeptList, SortedLists } from './sorted-lists.ts';
import { SUBSCHEMA_ATTRIBUTES, subschemaDnOf, subschemaFromEntry } from './subschema.ts';
import { wireValues } from './unicode-pwd.ts';

/**
 * Page size for simple paged results (RFC 2696). Offset windows walk to the end anyway (to count
 * the total), so big pages mean few round trips; 500 stays under common server maxima
 * (Active Directory's MaxPageSize is 1000).
 */
const PAGE_SIZE = 500;
const DEFAULT_CURSOR_SESSIONS = 8;
const DEFAULT_CURSOR_IDLE_MS = 60_000;
const DEFAULT_SORTED_LIST_REUSE_MS = 10_000;
/** Size limits up to this are sent to the server as they are (see search()); beyond, a paged walk. */
const SMALL_SIZE_LIMIT = 100;
/** maxInt of the VLV request's INTEGER (0..maxInt) fields (RFC 4511 §4.1.1). */
const MAX_INT = 2 ** 31 - 1;
/** "No attributes" (RFC 4511 §4.5.1.8). */
const NO_ATTRIBUTES = '1.1';
const PING_TIMEOUT_MS = 2_000;

export class LdapDirectory implements Directory {
  readonly #pool: ConnectionPool;
  readonly #cursorSessions: PagedSessions;
  readonly #sortedLists: SortedLists<PooledConnection>;
  #warnedSortedListFailure = false;
  readonly #logger: DirectoryLogger;
  readonly #pingTimeoutMs: number;
  /** TLS from the first byte (ldaps://) or upgraded with StartTLS: passwords may be sent. */
  readonly #encrypted: boolean;
  #capabilities: Promise<DirectoryCapabilities> | undefined;
  /** The settled value of #capabilities: searches skip an await once it is known. */
  #knownCapabilities: DirectoryCapabilities | undefined;

  constructor(options: LdapDirectoryOptions, logger: DirectoryLogger = silentLogger) {
    this.#pool = new ConnectionPool(options, logger);
    this.#sortedLists = new SortedLists(options.sortedListReuseMs ?? DEFAULT_SORTED_LIST_REUSE_MS);
    this.#cursorSessions = new PagedSessions(
      () => this.#pool.openDedicated(),
      {
        maxSessions: options.cursorSessions ?? DEFAULT_CURSOR_SESSIONS,
        idleMs: options.cursorIdleMs ?? DEFAULT_CURSOR_IDLE_MS,
      },
      logger,
    );
    this.#logger = logger;
    this.#pingTimeoutMs = Math.min(PING_TIMEOUT_MS, options.operationTimeoutMs);
    this.#encrypted = options.url.toLowerCase().startsWith('ldaps:') || options.startTls === true;
  }

  async search(request: SearchRequest): Promise<SearchResult> {
    const result = await this.#search(request);
    // Only AD splits long values into ranges; most searches have nothing left to fetch.
    if (result.entries.some((entry) => pendingRangesOf(entry).length > 0)) {
      await this.#completeRanges(
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
    const query: Query = {
      base: request.base,
      options: {
        scope: request.scope,
        filter: toLdapFilter(request.filter),
        attributes: request.attributes.length === 0 ? [NO_ATTRIBUTES] : request.attributes,
        explicitBufferAttributes: request.binaryAttributes ?? [],
      },
      binary: lowerCaseSet(request.binaryAttributes),
      sort: request.sort && request.sort.length > 0 ? request.sort : undefined,
    };
    const context = `search ${request.base}`;
    try {
      const capabilities = this.#knownCapabilities ?? (await this.capabilities());
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

  async read(dn: string, attributes: string[], binaryAttributes?: string[]): Promise<DirEntry | undefined> {
    try {
      const entry = await this.#readEntry(dn, attributes, binaryAttributes);
      if (entry) await this.#completeRanges([entry], lowerCaseSet(binaryAttributes), `read ${dn}`);
      return entry;
    } catch (error) {
      const mapped = toPortError(error, `read ${dn}`);
      if (mapped instanceof NotFoundError) return undefined;
      throw mapped;
    }
  }

  async add(
    dn: string,
    attributes: Record<string, DirValue[]>,
    options: WriteOptions = {},
  ): Promise<DirEntry | undefined> {
    let ldapAttributes: Attribute[];
    try {
      ldapAttributes = Object.entries(attributes)
        .filter(([, values]) => values.length > 0)
        .map(
          ([type, values]) =>
            new Attribute({ type, values: wireValues(type, values, this.#encrypted) as string[] }),
        );
    } catch (error) {
      throw toPortError(error, `add ${dn}`);
    }
    return this.#write(`add ${dn}`, dn, options, (client, controls) =>
      client.add(dn, ldapAttributes, controls),
    );
  }

  async modify(dn: string, changes: DirChange[], options: WriteOptions = {}): Promise<DirEntry | undefined> {
    // RFC 4511 §4.6: an add needs values; delete or replace without values removes the attribute.
    let ldapChanges: Change[];
    try {
      ldapChanges = changes
        .filter((change) => change.operation !== 'add' || change.values.length > 0)
        .map(
          (change) =>
            new Change({
              operation: change.operation,
              modification: new Attribute({
                type: change.attribute,
                values: wireValues(change.attribute, change.values, this.#encrypted) as string[],
              }),
            }),
        );
    } catch (error) {
      throw toPortError(error, `modify ${dn}`);
    }
    if (ldapChanges.length === 0) return this.#noChange(dn, options);
    return this.#write(`modify ${dn}`, dn, options, (client, controls) =>
      client.modify(dn, ldapChanges, controls),
    );
  }

  async rename(dn: string, newDn: string): Promise<void> {
    const [, oldParent] = splitFirstRdn(dn);
    const [newRdn, newParent] = splitFirstRdn(newDn);
    // ldapts splits "rdn,parent" at the first comma not preceded by a backslash, so an RDN ending
    // in an escaped backslash ("cn=a\\") must end in its hex form (\5C, RFC 4514 §2.4) instead.
    const safeRdn = newRdn.endsWith('\\\\') ? `${newRdn.slice(0, -2)}\\5C` : newRdn;
    // New superior only when the parent changes (RFC 4511 §4.9); deleteOldRdn is always true.
    const target = sameDn(oldParent, newParent) ? safeRdn : `${safeRdn},${newParent}`;
    await this.#write(`rename ${dn} to ${newDn}`, dn, {}, (client, controls) =>
      client.modifyDN(dn, target, controls),
    );
  }

  async delete(dn: string, options: WriteOptions = {}): Promise<void> {
    const { assertion } = options;
    await this.#write(`delete ${dn}`, dn, assertion ? { assertion } : {}, (client, controls) =>
      client.del(dn, controls),
    );
  }

  capabilities(): Promise<DirectoryCapabilities> {
    if (!this.#capabilities) {
      this.#capabilities = this.#readRootDse().then(
        (rootDse) => {
          const capabilities = capabilitiesFromRootDse(rootDse);
          this.#knownCapabilities = capabilities;
          this.#logger.info(capabilities, 'directory capabilities');
          return capabilities;
        },
        (error: unknown) => {
          // Not cached: the next call asks again (the directory may be starting up).
          this.#capabilities = undefined;
          throw toPortError(error, 'read rootDSE');
        },
      );
    }
    return this.#capabilities;
  }

  /**
   * Reads the subschema subentry the rootDSE names (RFC 4512 §5.1 subschemaSubentry; cn=Subschema
   * when it names none), base scope with (objectClass=subschema) as RFC 4512 §4.4 recommends.
   * A refusal (no such entry, access denied) is "cannot read": undefined. Unavailability is thrown.
   */
  async subschema(): Promise<DirectorySubschema | undefined> {
    try {
      const rootDse = await this.#readEntry('', ['subschemaSubentry']);
      const dn = subschemaDnOf(rootDse);
      const raw = await this.#searchBase(
        dn,
        toLdapFilter({ type: 'equal', attribute: 'objectClass', value: 'subschema' }),
        SUBSCHEMA_ATTRIBUTES,
      );
      if (!raw) return undefined;
      const entry = toDirEntry(raw, new Set());
      // Active Directory may return a long attributeTypes in ranges like any multi-valued attribute.
      await this.#completeRanges([entry], new Set(), `read subschema ${dn}`);
      return subschemaFromEntry(entry);
    } catch (error) {
      const mapped = toPortError(error, 'read subschema');
      if (mapped instanceof UnavailableError || !(mapped instanceof PortError)) throw mapped;
      this.#logger.warn({ err: mapped.message }, 'the directory refused to show its subschema');
      return undefined;
    }
  }

  async ping(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new UnavailableError(`directory did not answer a rootDSE read within ${this.#pingTimeoutMs} ms`),
          ),
        this.#pingTimeoutMs,
      );
    });
    try {
      await Promise.race([this.#readRootDse(), timeout]);
    } catch (error) {
      throw toPortError(error, 'ping');
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    this.#cursorSessions.closeAll();
    return this.#pool.close();
  }

  /**
   * The number of entries a query matches: a VLV content count when the directory offers VLV and
   * sort keys are known (one server-side sort, no entries sent), else a paged walk that asks for
   * no attributes (every entry's DN crosses the wire).
   */
  async #countMatches(query: Query, countOrder: SortKey[] | undefined, context: string): Promise<number> {
    const capabilities = this.#knownCapabilities ?? (await this.capabilities());
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
    const capabilities = this.#knownCapabilities ?? (await this.capabilities());
    if (query.sort && capabilities.virtualListView && count <= PAGE_SIZE) {
      try {
        return await this.#virtualListViewWindow(query, startIndex, count);
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
   * One page of an RFC 9865 cursor walk. Pages after the first come from the paged search a
   * session keeps open (the server's RFC 2696 cookie) when this process holds it; otherwise from
   * the offset path in the same order (VLV with the sort keys, or a paged walk in the directory's
   * order when unsorted), so a cursor issued by another instance or an evicted session still gives
   * the right page. The first page counts the matches (totalResults) and opens the session.
   */
  async #cursorPage(
    query: Query,
    page: Extract<PageRequest, { kind: 'cursor' }>,
    context: string,
  ): Promise<SearchResult> {
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
      const controls: Control[] = query.sort ? [sortControl(query.sort)] : [];
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
   * Active Directory caps the values of one attribute per read (MaxValRange, default 1500) and
   * names the window `member;range=0-1499`: read the rest (`member;range=1500-*`, ...) so callers
   * see every value under the plain name. See ranges.ts.
   */
  async #completeRanges(
    entries: readonly DirEntry[],
    binary: ReadonlySet<string>,
    context: string,
  ): Promise<void> {
    try {
      await completeRanges(
        entries,
        (dn, attribute) => this.#searchBase(dn, alwaysTrue(), [attribute], [...binary]),
        binary,
      );
    } catch (error) {
      throw toPortError(error, context);
    }
  }

  // --- searches -------------------------------------------------------------------------------

  /**
   * Server-side sort + VLV: one search returns exactly the window, and the VLV response's
   * contentCount is the total. A later window of the same query is read from the sorted list the
   * server kept for the earlier one (its contextID, on the same connection) while that list may be
   * reused: see sorted-lists.ts.
   */
  async #virtualListViewWindow(query: Query, startIndex: number, count: number): Promise<SearchResult> {
    const signature = querySignature(query);
    const lists = this.#sortedLists;
    // Stamped before the search: a write that starts meanwhile makes its list unusable.
    const generation = lists.generation;
    const takenAt = lists.now();
    const listOf = (connection: PooledConnection, window: VirtualListViewWindow) =>
      window.contextId && window.result.total
        ? { connection, contextId: window.contextId, takenAt, generation }
        : undefined;
    const kept = lists.take(signature);
    if (kept) {
      let answered: KeptList<PooledConnection> | undefined;
      try {
        const window = await this.#pool.runOn(kept.connection, (client) =>
          virtualListViewSearch(client, query, startIndex, count, kept.contextId),
        );
        if (window) {
          // A new contextID may name the same list (Samba AD renames its list on every page) or
          // a fresh sort (OpenLDAP, when it no longer holds the list): either way its age is
          // counted from the kept list's sort, so a list is never reused past sortedListReuseMs.
          answered = window.contextId?.equals(kept.contextId)
            ? kept
            : window.contextId && window.result.total
              ? { ...kept, contextId: window.contextId }
              : undefined;
          return window.result;
        }
      } catch (error) {
        // The list or its connection failed this search: the query is searched afresh below.
        // Said once: a directory that refuses every contextID would otherwise fill the log.
        if (!this.#warnedSortedListFailure) {
          this.#warnedSortedListFailure = true;
          this.#logger.warn(
            { err: error instanceof Error ? error.message : String(error) },
            'a page from the sorted list the directory kept failed; searching afresh. If this directory refuses VLV contextIDs, set ldap.sortedListReuseMs to 0 (said once per process)',
          );
        }
      } finally {
        lists.settle(signature, kept, answered);
      }
    }
    return this.#pool.run(async (client, connection) => {
      const window = await virtualListViewSearch(client, query, startIndex, count);
      lists.settle(signature, undefined, listOf(connection, window));
      return window.result;
    }, searchMode(query));
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
        const controls = query.sort ? [sortControl(query.sort)] : [];
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
          await this.#completeRanges(window, query.binary, `search ${query.base}`);
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
        const controls = query.sort ? [sortControl(query.sort)] : [];
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
      const controls: Control[] = query.sort ? [sortControl(query.sort)] : [];
      const { searchEntries } = await client.search(query.base, options, controls);
      if (sizeLimit !== undefined && searchEntries.length > sizeLimit) {
        throw new TooManyResultsError(`${context}: more than ${sizeLimit} entries match`);
      }
      const entries = searchEntries.map((raw) => toDirEntry(raw, query.binary));
      return { entries, total: entries.length };
    }, searchMode(query));
  }

  async #readEntry(
    dn: string,
    attributes: string[],
    binaryAttributes?: string[],
  ): Promise<DirEntry | undefined> {
    const raw = await this.#searchBase(dn, alwaysTrue(), attributes, binaryAttributes);
    return raw && toDirEntry(raw, lowerCaseSet(binaryAttributes));
  }

  async #searchBase(
    dn: string,
    filter: Filter,
    attributes: string[],
    binaryAttributes?: string[],
  ): Promise<Entry | undefined> {
    const { searchEntries } = await this.#pool.run(
      (client) =>
        client.search(dn, {
          scope: 'base',
          filter,
          attributes: attributes.length === 0 ? [NO_ATTRIBUTES] : attributes,
          explicitBufferAttributes: binaryAttributes ?? [],
        }),
      { idempotent: true },
    );
    return searchEntries[0];
  }

  async #readRootDse(): Promise<DirEntry> {
    const entry = await this.#readEntry('', ROOT_DSE_ATTRIBUTES);
    if (!entry) throw new UnavailableError('the directory returned no rootDSE');
    return entry;
  }

  // --- writes ---------------------------------------------------------------------------------

  /**
   * Runs a write with the assertion and post-read controls the options ask for. Not retried: after
   * a transport failure the directory may or may not have applied it.
   */
  async #write(
    context: string,
    dn: string,
    options: WriteOptions,
    send: (client: Client, controls: Control[]) => Promise<void>,
  ): Promise<DirEntry | undefined> {
    try {
      const wantsEntry = options.returnAttributes !== undefined;
      const postRead = wantsEntry && (await this.capabilities()).postRead;
      const controls: Control[] = [];
      if (options.assertion) {
        // Active Directory (and Samba AD) do not offer RFC 4528; sent anyway it fails with
        // unavailableCriticalExtension (12). A read-then-write check would not be atomic: refuse.
        if (!(await this.capabilities()).assertion) {
          throw new RefusedError(
            `${context}: conditional writes (If-Match) need the LDAP assertion control (RFC 4528), which this directory does not offer (Active Directory does not); retry without If-Match`,
          );
        }
        controls.push(new AssertionControl(toLdapFilter(options.assertion)));
      }
      const postReadControl = postRead ? new PostReadControl(options.returnAttributes ?? []) : undefined;
      if (postReadControl) controls.push(postReadControl);

      this.#sortedLists.invalidate();
      try {
        await this.#pool.run((client) => send(client, controls), { idempotent: false });
      } finally {
        this.#sortedLists.invalidate();
      }

      if (!wantsEntry) return undefined;
      const returned = options.returnAttributes ?? [];
      const binaryAttributes = options.binaryAttributes ?? [];
      const binary = lowerCaseSet(binaryAttributes);
      const entry = postReadControl?.entry
        ? toDirEntry(postReadControl.entry.toObject(returned, binaryAttributes), binary)
        : // No post-read from this server: read back (RFC 4527 is optional). Renames report no entry.
          await this.#readEntry(dn, returned, binaryAttributes);
      if (entry) await this.#completeRanges([entry], binary, context);
      return entry;
    } catch (error) {
      if (isTransportFailure(error) && !(error instanceof RequestNotSentError)) {
        throw new UnavailableError(
          `${context}: the connection failed before the directory answered; the write may or may not have been applied`,
          error,
        );
      }
      throw toPortError(error, context);
    }
  }

  /**
   * A modify without changes is not sent (servers reject an empty modification list). The assertion
   * is still honoured, by a base search with it as the filter: nothing is written, so nothing races.
   */
  async #noChange(dn: string, options: WriteOptions): Promise<DirEntry | undefined> {
    const context = `modify ${dn}`;
    try {
      if (options.assertion) {
        const matching = await this.#searchBase(dn, toLdapFilter(options.assertion), []);
        if (!matching) throw new UnknownStatusCodeError(122, 'assertion failed');
      }
      if (options.returnAttributes === undefined) {
        if (!options.assertion && !(await this.#searchBase(dn, alwaysTrue(), []))) {
          throw new NotFoundError(`${context}: no such entry`);
        }
        return undefined;
      }
      const entry = await this.#readEntry(dn, options.returnAttributes, options.binaryAttributes);
      if (!entry) throw new NotFoundError(`${context}: no such entry`);
      await this.#completeRanges([entry], lowerCaseSet(options.binaryAttributes), context);
      return entry;
    } catch (error) {
      throw toPortError(error, context);
    }
  }
}

interface Query {
  base: string;
  options: SearchOptions & { filter: Filter; attributes: string[] };
  binary: ReadonlySet<string>;
  sort: SortKey[] | undefined;
}

interface VirtualListViewWindow {
  result: SearchResult;
  /** Names the sorted list the server kept for this search, on the connection it ran on. */
  contextId: Buffer | undefined;
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

/** What makes two searches the same query for a kept sorted list: base, scope, filter and sort keys. */
function querySignature(query: Query): string {
  return JSON.stringify([query.base, query.options.scope, String(query.options.filter), query.sort ?? []]);
}

function searchMode(query: Query, extra: Partial<RunMode> = {}): RunMode {
  return { idempotent: true, ...(query.sort ? { exhaustsConnection: isSortContextLimit } : {}), ...extra };
}

function checkWindow(startIndex: number, count: number): void {
  // VLV and SCIM offsets are 1-based (RFC 7644 §3.4.2.4).
  if (!Number.isInteger(startIndex) || startIndex < 1)
    throw new RangeError(`startIndex must be >= 1, got ${startIndex}`);
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be >= 0, got ${count}`);
}

/** RFC 2891, critical: a server that cannot sort as asked fails the search instead of returning unsorted. */
function sortControl(keys: SortKey[]): ServerSideSortingRequestControl {
  return new ServerSideSortingRequestControl({
    critical: true,
    value: keys.map((key) => ({
      attributeType: key.attribute,
      ...(key.orderingRule ? { orderingRule: key.orderingRule } : {}),
      // reverseOrder is DEFAULT FALSE: encode it only when set (X.690 DER omits defaults).
      ...(key.reverse ? { reverseOrder: true } : {}),
    })),
  });
}

/**
 * OpenLDAP's sssvlv keeps each VLV sort context until the connection closes (sssvlv.c frees a
 * context only when its list is exhausted, which a VLV window never does) and answers busy (51)
 * once sssvlv-maxperconn are held. A fresh connection starts with none.
 */
function isSortContextLimit(error: unknown): boolean {
  return hasResultCode(error, ResultCode.busy);
}

function checkSortResult(control: ServerSideSortingRequestControl): void {
  const sortResult = control.result?.sortResult ?? 0;
  if (sortResult !== 0) {
    throw new UnknownStatusCodeError(
      sortResult,
      `server-side sort failed${control.result?.attributeType ? ` on ${control.result.attributeType}` : ''}`,
    );
  }
}

/**
 * Splits "rdn,parent" at the first comma that separates RDNs (RFC 4514 §2): one not escaped by a
 * backslash. `\\` is an escaped backslash, `\,` an escaped comma, `\2C` a hex pair.
 */
export function splitFirstRdn(dn: string): [string, string] {
  for (let index = 0; index < dn.length; index++) {
    const char = dn[index];
    if (char === '\\') index++;
    else if (char === ',') return [dn.slice(0, index).trim(), dn.slice(index + 1).trim()];
  }
  return [dn.trim(), ''];
}

/** DN equality for deciding whether a rename moves the entry; case-insensitive like most DN attributes. */
function sameDn(a: string, b: string): boolean {
  const normalize = (dn: string) => dn.replace(/\s*([,=+])\s*/g, '$1').toLowerCase();
  return normalize(a) === normalize(b);
}

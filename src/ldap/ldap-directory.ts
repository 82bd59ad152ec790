/**
 * The Directory port over ldapts: wires the connection pool to searches (searches.ts, vlv.ts),
 * writes (writes.ts) and single-entry reads (entry-reader.ts). Queries run in the directory: one
 * LDAP filter, paging by the directory's controls, never a whole subtree pulled into memory.
 */
import type {
  CallOptions,
  DirChange,
  DirEntry,
  Directory,
  DirectoryCapabilities,
  DirectorySubschema,
  DirValue,
  SearchRequest,
  SearchResult,
  WriteOptions,
} from '../ports/directory.ts';
import { NotFoundError, PortError, UnavailableError } from '../ports/errors.ts';
import { lowerCaseSet, toDirEntry } from './entries.ts';
import { EntryReader } from './entry-reader.ts';
import { toPortError } from './errors.ts';
import { toLdapFilter } from './filters.ts';
import { type DirectoryLogger, type LdapDirectoryOptions, silentLogger } from './options.ts';
import { PagedSessions } from './paged-sessions.ts';
import type { PooledConnection } from './pool.ts';
import { CapabilitiesCache } from './root-dse.ts';
import { Searches } from './searches.ts';
import type { ServerStatus } from './server-health.ts';
import { ServerSet } from './server-set.ts';
import { SortedLists } from './sorted-lists.ts';
import { SUBSCHEMA_ATTRIBUTES, subschemaDnOf, subschemaFromEntry } from './subschema.ts';
import { VirtualListViews } from './vlv.ts';
import { Writes } from './writes.ts';

const DEFAULT_CURSOR_SESSIONS = 8;
const DEFAULT_CURSOR_IDLE_MS = 60_000;
const DEFAULT_SORTED_LIST_REUSE_MS = 10_000;
const PING_TIMEOUT_MS = 2_000;

export class LdapDirectory implements Directory {
  readonly #pool: ServerSet;
  readonly #cursorSessions: PagedSessions;
  readonly #reader: EntryReader;
  readonly #capabilities: CapabilitiesCache;
  readonly #searches: Searches;
  readonly #writes: Writes;
  readonly #logger: DirectoryLogger;
  readonly #pingTimeoutMs: number;
  readonly #sortedLists: SortedLists<PooledConnection>;

  constructor(options: LdapDirectoryOptions, logger: DirectoryLogger = silentLogger) {
    this.#pool = new ServerSet(options, logger);
    this.#reader = new EntryReader(this.#pool);
    this.#capabilities = new CapabilitiesCache(() => this.#reader.readRootDse(), logger);
    const sortedLists = new SortedLists<PooledConnection>(
      options.sortedListReuseMs ?? DEFAULT_SORTED_LIST_REUSE_MS,
    );
    this.#sortedLists = sortedLists;
    this.#cursorSessions = new PagedSessions(
      () => this.#pool.openDedicated(),
      {
        maxSessions: options.cursorSessions ?? DEFAULT_CURSOR_SESSIONS,
        idleMs: options.cursorIdleMs ?? DEFAULT_CURSOR_IDLE_MS,
      },
      logger,
    );
    this.#searches = new Searches(
      this.#pool,
      this.#reader,
      this.#capabilities,
      new VirtualListViews(this.#pool, sortedLists, logger),
      this.#cursorSessions,
    );
    // TLS from the first byte (ldaps://) or upgraded with StartTLS: passwords may be sent.
    const urls = options.servers?.map((server) => server.url) ?? [options.url];
    const encrypted =
      options.startTls === true || urls.every((url) => url.toLowerCase().startsWith('ldaps:'));
    this.#writes = new Writes(this.#pool, this.#reader, this.#capabilities, sortedLists, encrypted);
    this.#logger = logger;
    this.#pingTimeoutMs = Math.min(PING_TIMEOUT_MS, options.operationTimeoutMs);
  }

  search(request: SearchRequest): Promise<SearchResult> {
    return this.#searches.search(request);
  }

  async read(
    dn: string,
    attributes: string[],
    binaryAttributes?: string[],
    options: CallOptions = {},
  ): Promise<DirEntry | undefined> {
    try {
      const entry = await this.#reader.readEntry(dn, attributes, binaryAttributes, options.deadlineAt);
      if (entry) await this.#reader.completeRanges([entry], lowerCaseSet(binaryAttributes), `read ${dn}`);
      return entry;
    } catch (error) {
      const mapped = toPortError(error, `read ${dn}`);
      if (mapped instanceof NotFoundError) return undefined;
      throw mapped;
    }
  }

  add(
    dn: string,
    attributes: Record<string, DirValue[]>,
    options: WriteOptions = {},
  ): Promise<DirEntry | undefined> {
    return this.#writes.add(dn, attributes, options);
  }

  modify(dn: string, changes: DirChange[], options: WriteOptions = {}): Promise<DirEntry | undefined> {
    return this.#writes.modify(dn, changes, options);
  }

  rename(dn: string, newDn: string, options: CallOptions = {}): Promise<void> {
    return this.#writes.rename(dn, newDn, options);
  }

  delete(dn: string, options: WriteOptions = {}): Promise<void> {
    return this.#writes.delete(dn, options);
  }

  capabilities(): Promise<DirectoryCapabilities> {
    return this.#capabilities.get();
  }

  /**
   * Reads the subschema subentry the rootDSE names (RFC 4512 §5.1 subschemaSubentry; cn=Subschema
   * when it names none), base scope with (objectClass=subschema) as RFC 4512 §4.4 recommends.
   * A refusal (no such entry, access denied) is "cannot read": undefined. Unavailability is thrown.
   */
  async subschema(): Promise<DirectorySubschema | undefined> {
    try {
      const rootDse = await this.#reader.readEntry('', ['subschemaSubentry']);
      const dn = subschemaDnOf(rootDse);
      const raw = await this.#reader.searchBase(
        dn,
        toLdapFilter({ type: 'equal', attribute: 'objectClass', value: 'subschema' }),
        SUBSCHEMA_ATTRIBUTES,
      );
      if (!raw) return undefined;
      const entry = toDirEntry(raw, new Set());
      // Active Directory may return a long attributeTypes in ranges like any multi-valued attribute.
      await this.#reader.completeRanges([entry], new Set(), `read subschema ${dn}`);
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
      await Promise.race([this.#reader.readRootDse(), timeout]);
    } catch (error) {
      throw toPortError(error, 'ping');
    } finally {
      clearTimeout(timer);
    }
  }

  endKeptResults(): void {
    this.#sortedLists.invalidate();
  }

  /** Pool and cursor-session use, read by the metrics at scrape time. */
  usage(): {
    connections: number;
    inFlight: number;
    waiting: number;
    retiring: number;
    cursorSessions: number;
  } {
    return { ...this.#pool.usage, cursorSessions: this.#cursorSessions.size };
  }

  /** Each configured server's state, in the order listed (for /ready and /metrics). */
  servers(): ServerStatus[] {
    return this.#pool.status();
  }

  /** The writable server writes go to now (the change feed follows it). */
  writableUrl(): string {
    return this.#pool.writableUrl();
  }

  close(): Promise<void> {
    this.#cursorSessions.closeAll();
    return this.#pool.close();
  }
}

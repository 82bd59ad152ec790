/**
 * Paged searches kept open between requests, so that RFC 9865 cursor pages are served from the
 * directory's own simple-paged-results cookies (RFC 2696) instead of re-running the query to an
 * offset. A cookie belongs to one connection of one server: each session holds a dedicated
 * connection, and a page request this process cannot serve from a session (another bridge
 * instance issued the cursor, the session was evicted or timed out, the page size changed) is
 * answered by the caller's offset path in the same order instead.
 *
 * Bounded: at most `maxSessions` open (the least recently used idle one is closed to make room),
 * each closed after `idleMs` without a request and when its last page has been read.
 */
import { randomBytes } from 'node:crypto';
import type { Control, Entry, SearchOptions } from 'ldapts';
import type { DirectoryLogger } from './options.ts';
import type { PooledConnection } from './pool.ts';

export interface PagedSessionLimits {
  maxSessions: number;
  idleMs: number;
}

export interface PagedPage {
  entries: Entry[];
  /** Handle for the next page when this session can serve it; absent after the last page. */
  session?: string;
}

interface Session {
  id: string;
  /** What was asked: a handle is only honoured for the very same search. */
  signature: string;
  connection: PooledConnection;
  pages: AsyncIterator<{ searchEntries: Entry[] }>;
  /** 1-based position of the first entry of the next page. */
  position: number;
  pageSize: number;
  busy: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

export class PagedSessions {
  readonly #open: () => Promise<PooledConnection>;
  readonly #limits: PagedSessionLimits;
  readonly #logger: DirectoryLogger;
  /** Insertion order is recency order: a session is re-inserted when used. */
  readonly #sessions = new Map<string, Session>();
  /** Sessions whose connection is being opened: they count against the limit already. */
  #opening = 0;
  #closed = false;

  constructor(open: () => Promise<PooledConnection>, limits: PagedSessionLimits, logger: DirectoryLogger) {
    this.#open = open;
    this.#limits = limits;
    this.#logger = logger;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Starts a paged search and returns its first page, or undefined when no session can be opened
   * now (limit reached with every session busy, or sessions disabled).
   */
  async start(
    base: string,
    options: SearchOptions,
    controls: Control[],
    signature: string,
    pageSize: number,
    total: number,
  ): Promise<PagedPage | undefined> {
    if (this.#closed || this.#limits.maxSessions < 1 || pageSize < 1 || !this.#makeRoom()) return undefined;
    let connection: PooledConnection;
    this.#opening++;
    try {
      connection = await this.#open();
    } catch (error) {
      this.#logger.warn({ err: error }, 'cannot open a connection for a cursor session; paging by position');
      return undefined;
    } finally {
      this.#opening--;
    }
    if (this.#closed) {
      connection.dispose();
      return undefined;
    }
    const pages = connection.client
      .searchPaginated(base, { ...options, paged: { pageSize } }, controls)
      [Symbol.asyncIterator]();
    const session: Session = {
      id: randomBytes(16).toString('base64url'),
      signature,
      connection,
      pages,
      position: 1,
      pageSize,
      busy: false,
      idleTimer: undefined,
    };
    this.#sessions.set(session.id, session);
    return this.#read(session, total);
  }

  /**
   * The next page of a session, when `id` names one of this process for the same search, at
   * `position`, with the same page size and not busy; undefined otherwise (the caller falls back).
   */
  async continue(
    id: string,
    signature: string,
    position: number,
    pageSize: number,
    total: number,
  ): Promise<PagedPage | undefined> {
    const session = this.#sessions.get(id);
    if (
      !session ||
      session.busy ||
      session.signature !== signature ||
      session.position !== position ||
      session.pageSize !== pageSize
    ) {
      return undefined;
    }
    return this.#read(session, total);
  }

  async #read(session: Session, total: number): Promise<PagedPage | undefined> {
    session.busy = true;
    clearTimeout(session.idleTimer);
    // Most recently used last.
    this.#sessions.delete(session.id);
    this.#sessions.set(session.id, session);
    try {
      const next = await session.pages.next();
      const entries = next.done ? [] : next.value.searchEntries;
      session.position += entries.length;
      // The total was counted when the walk began: the last page is the one that reaches it.
      if (next.done || entries.length === 0 || session.position > total) {
        this.#close(session);
        return { entries };
      }
      session.busy = false;
      session.idleTimer = setTimeout(() => this.#close(session), this.#limits.idleMs);
      session.idleTimer.unref();
      return { entries, session: session.id };
    } catch (error) {
      // The session is gone (the connection broke, the server dropped the paged state): the
      // caller pages by position instead, where a real fault of the search shows again.
      this.#close(session);
      this.#logger.warn({ err: error, session: session.id }, 'cursor session failed; paging by position');
      return undefined;
    }
  }

  /** Closes the least recently used idle session when the limit is reached; false if all are busy. */
  #makeRoom(): boolean {
    if (this.#sessions.size + this.#opening < this.#limits.maxSessions) return true;
    for (const session of this.#sessions.values()) {
      if (!session.busy) {
        this.#logger.info({ session: session.id }, 'paged search session closed to make room for a new one');
        this.#close(session);
        return true;
      }
    }
    return false;
  }

  #close(session: Session): void {
    clearTimeout(session.idleTimer);
    this.#sessions.delete(session.id);
    // Ends the search: the connection goes, and the server's paged state with it.
    session.pages.return?.(undefined).catch(() => undefined);
    session.connection.dispose();
  }

  closeAll(): void {
    this.#closed = true;
    for (const session of [...this.#sessions.values()]) this.#close(session);
  }
}

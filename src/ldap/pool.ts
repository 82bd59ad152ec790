/**
 * A fixed set of ldapts Clients, each one TCP connection bound as the service account.
 *
 * - Operations are multiplexed: each goes to the connection with the fewest in flight.
 * - Simple-paged walks lease a connection: servers keep one paged-results state per connection
 *   (OpenLDAP does), so two concurrent walks on one connection would invalidate each other's cookie.
 * - A Client never reconnects by itself: ldapts would do that transparently and, after StartTLS,
 *   without re-binding, i.e. as anonymous in plain text. A lost connection is dropped instead, and
 *   the next operation on that slot opens (StartTLS, bind) a fresh Client.
 * - After a transport failure a read is retried once on a fresh connection. A write is not: it may
 *   have been applied before the connection broke, so its outcome is unknown to us.
 * - Back-pressure, not failure (docs/architecture.md §Back-pressure): a `busy` answer (RFC 4511
 *   §4.1.9: the operation was not performed) is retried for that operation alone, with bounded
 *   backoff; no other request's connection is touched by it.
 * - Server-side sorts are limited per connection (`sortedPagesPerConnection`, OpenLDAP's
 *   sssvlv-maxperconn): sorts beyond it wait for room. sssvlv keeps every VLV sort until the
 *   connection closes, so a connection that has started that many is retired: it takes no new
 *   operation, the ones in flight on it finish, then it closes, and its slot opens a fresh one.
 *   Only a broken connection is dropped at once.
 * - Every wait and every operation is bounded by the request's deadline (lib/deadline.ts), given
 *   as `deadlineAt` in the run mode. No timer is armed for an operation ldapts' own timeout
 *   (operationTimeoutMs) ends before the deadline: one timer per operation costs the read path.
 */
import { type Client, ResultCodeError } from 'ldapts';
import { bounded, checkDeadline, DeadlineExceededError, pauseWithin, remainingMs } from '../lib/deadline.ts';
import { coalesceWrites, openConnection, type PooledConnection } from './connection.ts';
import { hasResultCode, isTransportFailure, RequestNotSentError, ResultCode } from './errors.ts';
import type { DirectoryLogger, LdapDirectoryOptions } from './options.ts';

export { PooledConnection } from './connection.ts';

/** What searches, writes and reads need of the pool: one server's pool, or several (server-set.ts). */
export type OperationRunner = Pick<ConnectionPool, 'run' | 'runOn' | 'openDedicated'>;

export interface RunMode {
  /** Safe to repeat (searches): retried once after a transport failure. */
  idempotent: boolean;
  /** Needs a connection no other paged walk is using (RFC 2696 cookies are per connection). */
  pagedWalk?: boolean;
  /**
   * A search with a server-side sort, which holds sort state on its connection: `kept` (a VLV
   * window: sssvlv keeps it until the connection closes) or `released` (freed when it ends).
   */
  sortState?: 'kept' | 'released';
  /** The request's deadline (performance.now() instant); absent outside a request. */
  deadlineAt?: number | undefined;
}

/** Default sorts per connection: OpenLDAP's sssvlv-maxperconn default (slapo-sssvlv(5)). */
export const DEFAULT_SORTED_PAGES_PER_CONNECTION = 5;
/**
 * Attempts after a `busy` answer outside a request (start-up, workers), with backoff doubling
 * from BUSY_BACKOFF_MS (full jitter). Within a request the deadline is the bound: a busy directory
 * is waited for until the request's time is up (then 503 + Retry-After), never turned into an error
 * sooner.
 */
const BUSY_RETRIES = 8;
const BUSY_BACKOFF_MS = 5;
const BUSY_BACKOFF_CAP_MS = 250;

class Slot {
  readonly index: number;
  connection: PooledConnection | undefined;
  opening: Promise<PooledConnection> | undefined;
  inFlight = 0;
  pagedWalkActive = false;
  /** Sort states the directory may hold on this slot's connection (kept ones, and running ones). */
  sorts = 0;
  /** Replaced in the pool: takes no new operation, closes when the last one in flight ends. */
  retiring = false;

  constructor(index: number) {
    this.index = index;
  }
}

export class ConnectionPool {
  readonly #options: LdapDirectoryOptions;
  readonly #logger: DirectoryLogger;
  readonly #slots: Slot[];
  /** Slots replaced while operations were still in flight on them. */
  readonly #retiring = new Set<Slot>();
  /** Operations waiting for a slot with room (a paged walk, a sort): woken when one ends. */
  #waiters: Array<() => void> = [];
  readonly #sortsPerConnection: number;
  #nextSlot = 0;
  #closed = false;

  /** Reads retried on a fresh connection here; off with other servers to go to (server-set.ts). */
  readonly #retryTransportFailures: boolean;

  constructor(options: LdapDirectoryOptions, logger: DirectoryLogger, retryTransportFailures = true) {
    this.#retryTransportFailures = retryTransportFailures;
    if (!Number.isInteger(options.poolSize) || options.poolSize < 1) {
      throw new Error(`poolSize must be a positive integer, got ${options.poolSize}`);
    }
    if (options.startTls && options.url.startsWith('ldaps:')) {
      throw new Error('startTls applies to ldap:// URLs; ldaps:// is TLS from the first byte');
    }
    this.#options = options;
    this.#logger = logger;
    this.#slots = Array.from({ length: options.poolSize }, (_, index) => new Slot(index));
    this.#sortsPerConnection = Math.max(
      1,
      options.sortedPagesPerConnection ?? DEFAULT_SORTED_PAGES_PER_CONNECTION,
    );
  }

  /** Open connections, operations in flight and waiting, for the metrics. */
  get usage(): { connections: number; inFlight: number; waiting: number; retiring: number } {
    const all = [...this.#slots, ...this.#retiring];
    return {
      connections: all.filter((slot) => slot.connection?.usable).length,
      inFlight: all.reduce((sum, slot) => sum + slot.inFlight, 0),
      waiting: this.#waiters.length,
      retiring: this.#retiring.size,
    };
  }

  /** Runs `operation` on a bound connection; see the file comment for retries. */
  async run<T>(
    operation: (client: Client, connection: PooledConnection) => Promise<T>,
    mode: RunMode,
  ): Promise<T> {
    let busyAnswers = 0;
    let transportRetried = false;
    for (;;) {
      if (this.#closed) throw new Error('the directory connection pool is closed');
      checkDeadline(mode.deadlineAt, 'a directory operation');
      const slot = await this.#acquire(mode);
      let connection: PooledConnection | undefined;
      const started = performance.now();
      try {
        connection = slot.connection?.usable
          ? slot.connection
          : await bounded(this.#connectionOf(slot), mode.deadlineAt, 'opening a directory connection');
        coalesceWrites(connection.socket);
        const result = await this.#bounded(operation(connection.client, connection), mode);
        this.#observe(mode, 'success', started);
        return result;
      } catch (error) {
        this.#observe(mode, resultOf(error), started);
        if (hasResultCode(error, ResultCode.busy) && mayRetryBusy(busyAnswers, mode.deadlineAt)) {
          // Not performed (RFC 4511 §4.1.9). After a sort, the directory says this connection
          // holds all the sorts it allows: it retires, and the sort goes to another.
          if (mode.sortState) this.#retire(slot, 'the directory answered busy to a sort');
          busyAnswers++;
        } else {
          if (!isTransportFailure(error)) throw error;
          this.#drop(slot, connection, error, 'connection lost');
          if (!mode.idempotent || transportRetried || !this.#retryTransportFailures) throw error;
          transportRetried = true;
          continue;
        }
      } finally {
        this.#release(slot, mode);
      }
      const backoff = Math.min(BUSY_BACKOFF_CAP_MS, BUSY_BACKOFF_MS * 2 ** (busyAnswers - 1));
      await pauseWithin(
        Math.random() * backoff,
        mode.deadlineAt,
        'a directory operation (the directory was busy)',
      );
    }
  }

  /**
   * Runs `operation` on `connection` itself, for state the server keeps on that connection (a VLV
   * sorted list): undefined, without running it, when the pool no longer holds that connection.
   * Not retried: the state is gone with the connection, and the caller has a way without it.
   */
  async runOn<T>(
    connection: PooledConnection,
    operation: (client: Client) => Promise<T>,
    deadlineAt?: number,
  ): Promise<T | undefined> {
    const slot = [...this.#slots, ...this.#retiring].find((candidate) => candidate.connection === connection);
    if (this.#closed || !slot || !connection.usable) return undefined;
    checkDeadline(deadlineAt, 'a directory operation');
    slot.inFlight++;
    try {
      coalesceWrites(connection.socket);
      return await this.#bounded(operation(connection.client), { idempotent: true, deadlineAt });
    } catch (error) {
      if (isTransportFailure(error)) this.#drop(slot, connection, error, 'connection lost');
      if (hasResultCode(error, ResultCode.busy)) this.#retire(slot, 'the directory answered busy to a sort');
      throw error;
    } finally {
      this.#release(slot, { idempotent: true });
    }
  }

  /** Whether `connection` is one of this pool's (server-set.ts finds a VLV list's server by it). */
  holds(connection: PooledConnection): boolean {
    return [...this.#slots, ...this.#retiring].some((slot) => slot.connection === connection);
  }

  /**
   * A bound connection outside the pool's slots, for state that outlives one operation (a paged
   * search continued by later requests); the caller disposes of it.
   */
  async openDedicated(): Promise<PooledConnection> {
    if (this.#closed) throw new Error('the directory connection pool is closed');
    return openConnection(this.#options);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      [...this.#slots, ...this.#retiring].map(async (slot) => {
        const connection = slot.connection ?? (await slot.opening?.catch(() => undefined));
        slot.connection = undefined;
        if (connection?.usable) await connection.client.unbind().catch(() => connection.socket.destroy());
        else connection?.socket.destroy();
      }),
    );
    this.#retiring.clear();
    this.#wakeWaiters();
  }

  /**
   * `operation` bounded by the deadline of `mode`. One message and its answer are bounded by
   * ldapts' timeout already: no timer while that comes first. A paged walk is many messages.
   */
  #bounded<T>(operation: Promise<T>, mode: RunMode): Promise<T> {
    const boundedWithin = mode.pagedWalk ? Number.POSITIVE_INFINITY : this.#options.operationTimeoutMs;
    return bounded(operation, mode.deadlineAt, 'a directory operation', boundedWithin);
  }

  #observe(mode: RunMode, result: string, started: number): void {
    const kind = mode.sortState ? 'sorted_search' : mode.idempotent ? 'search' : 'write';
    this.#options.observe?.(kind, result, (performance.now() - started) / 1000);
  }

  /** A slot with room for `mode`, its counts taken; waits (within the deadline) while none has. */
  async #acquire(mode: RunMode): Promise<Slot> {
    for (;;) {
      const candidates = this.#slots.filter(
        (slot) =>
          !(mode.pagedWalk && slot.pagedWalkActive) &&
          !(mode.sortState && slot.sorts >= this.#sortsPerConnection),
      );
      if (candidates.length > 0) {
        const slot = this.#leastBusySlot(candidates);
        slot.inFlight++;
        if (mode.pagedWalk) slot.pagedWalkActive = true;
        if (mode.sortState) slot.sorts++;
        // Its last sort: the next sort goes to a fresh connection while this one finishes.
        if (mode.sortState === 'kept' && slot.sorts >= this.#sortsPerConnection) {
          this.#retire(slot, 'it holds as many sorts as the directory allows');
        }
        return slot;
      }
      await this.#waitForRoom(mode.deadlineAt);
      if (this.#closed) throw new Error('the directory connection pool is closed');
    }
  }

  #release(slot: Slot, mode: RunMode): void {
    slot.inFlight--;
    if (mode.pagedWalk) slot.pagedWalkActive = false;
    if (mode.sortState === 'released') slot.sorts--;
    if (slot.retiring && slot.inFlight === 0) {
      this.#retiring.delete(slot);
      slot.connection?.dispose();
      slot.connection = undefined;
    }
    this.#wakeWaiters();
  }

  /** Replaces `slot` in the pool by a fresh one; its connection closes once nothing runs on it. */
  #retire(slot: Slot, why: string): void {
    if (slot.retiring || this.#slots[slot.index] !== slot) return;
    slot.retiring = true;
    this.#slots[slot.index] = new Slot(slot.index);
    if (slot.inFlight > 0) this.#retiring.add(slot);
    else slot.connection?.dispose();
    this.#logger.info(
      { slot: slot.index },
      `directory connection retired (${why}); a fresh one takes its place`,
    );
    this.#wakeWaiters();
  }

  async #waitForRoom(deadlineAt: number | undefined): Promise<void> {
    const left = remainingMs(deadlineAt);
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer =
        left === undefined
          ? undefined
          : setTimeout(
              () => {
                this.#waiters = this.#waiters.filter((waiter) => waiter !== wake);
                reject(new DeadlineExceededError('waiting for a directory connection', false));
              },
              Math.max(0, left),
            );
      this.#waiters.push(wake);
    });
  }

  #wakeWaiters(): void {
    if (this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  #leastBusySlot(candidates: Slot[]): Slot {
    return leastBusy(candidates, this.#nextSlot++);
  }

  /** The slot's bound connection; failures to get one become RequestNotSentError (nothing was sent). */
  async #connectionOf(slot: Slot): Promise<PooledConnection> {
    try {
      return await this.#connection(slot);
    } catch (error) {
      // Anything but an LDAP result (a failed bind) is the connection's fault: refused, timed
      // out, TLS handshake or certificate rejected.
      throw error instanceof ResultCodeError || error instanceof RequestNotSentError
        ? error
        : new RequestNotSentError(`cannot connect to ${this.#options.url}: ${(error as Error).message}`, {
            cause: error,
          });
    }
  }

  async #connection(slot: Slot): Promise<PooledConnection> {
    if (slot.connection?.usable) return slot.connection;
    if (slot.connection) {
      this.#drop(
        slot,
        slot.connection,
        new RequestNotSentError('closed by the directory'),
        'connection lost',
      );
    }
    if (!slot.opening) {
      slot.opening = openConnection(this.#options).then(
        (connection) => {
          slot.opening = undefined;
          if (this.#closed) {
            connection.dispose();
            throw new Error('the directory connection pool is closed');
          }
          slot.connection = connection;
          return connection;
        },
        (error: unknown) => {
          slot.opening = undefined;
          throw error;
        },
      );
    }
    return slot.opening;
  }

  #drop(slot: Slot, connection: PooledConnection | undefined, reason: unknown, what: string): void {
    if (connection === undefined || slot.connection !== connection) return;
    slot.connection = undefined;
    this.#logger.warn(
      {
        slot: slot.index,
        url: this.#options.url,
        err: reason instanceof Error ? reason.message : String(reason),
      },
      `directory ${what}; a new one is opened on next use`,
    );
    connection.dispose();
  }
}

/** The slot with the fewest operations in flight; the scan starts at `turn` so that ties spread. */
function leastBusy(candidates: Slot[], turn: number): Slot {
  const start = turn % candidates.length;
  let best = candidates[start] as Slot;
  for (let offset = 1; offset < candidates.length; offset++) {
    const slot = candidates[(start + offset) % candidates.length] as Slot;
    if (slot.inFlight < best.inFlight) best = slot;
  }
  return best;
}

/** An operation's outcome as a metrics label: the LDAP result code, or what kind of failure. */
function resultOf(error: unknown): string {
  if (error instanceof ResultCodeError) return String(error.code);
  if (error instanceof DeadlineExceededError) return 'deadline';
  return isTransportFailure(error) ? 'transport_failure' : 'error';
}

/** Whether a `busy` answer is retried: within a request's deadline always, else BUSY_RETRIES times. */
function mayRetryBusy(busyAnswers: number, deadlineAt: number | undefined): boolean {
  return deadlineAt !== undefined || busyAnswers < BUSY_RETRIES;
}

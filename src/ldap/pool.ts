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
 * - Some server-side state lives as long as the connection (OpenLDAP's sssvlv keeps every VLV sort
 *   context until the connection closes); operations can ask for such a connection to be replaced.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Client, ResultCodeError } from 'ldapts';
import { isTransportFailure, RequestNotSentError } from './errors.ts';
import type { DirectoryLogger, LdapDirectoryOptions } from './options.ts';

export interface RunMode {
  /** Safe to repeat (searches): retried once after a transport failure. */
  idempotent: boolean;
  /** Needs a connection no other paged walk is using (RFC 2696 cookies are per connection). */
  pagedWalk?: boolean;
  /**
   * Errors that mean "this connection has used up its server-side state": the connection is
   * replaced and the operation tried once more on the fresh one (the failed attempt changed nothing).
   */
  exhaustsConnection?: (error: unknown) => boolean;
}

/**
 * One Client and the socket under it. `closed` follows the socket itself: after StartTLS, ldapts
 * keeps its close handler on the plain socket it replaced and would go on reporting the Client as
 * connected after the directory hung up.
 */
export class PooledConnection {
  readonly client: Client;
  readonly socket: net.Socket;
  closed = false;

  constructor(client: Client, socket: net.Socket) {
    this.client = client;
    this.socket = socket;
    socket.once('close', () => {
      this.closed = true;
    });
  }

  get usable(): boolean {
    return !this.closed && this.client.isConnected;
  }

  /** Polite unbind (RFC 4511 §4.3) when the connection still works, else just the socket. */
  dispose(): void {
    if (!this.usable) {
      this.socket.destroy();
      return;
    }
    this.client.unbind().catch(() => this.socket.destroy());
  }
}

/**
 * Requests sent on one connection during the same turn of the event loop leave in one write:
 * under load many SCIM requests are handled per turn, and a write system call per LDAP message
 * was the largest single cost of a GET (measured with --cpu-prof). The socket is corked until the
 * check phase of this turn (setImmediate), so a lone request waits for no timer.
 */
function coalesceWrites(socket: net.Socket): void {
  if (socket.writableCorked > 0 || socket.destroyed) return;
  socket.cork();
  setImmediate(() => socket.uncork());
}

class Slot {
  readonly index: number;
  connection: PooledConnection | undefined;
  opening: Promise<PooledConnection> | undefined;
  inFlight = 0;
  pagedWalkActive = false;

  constructor(index: number) {
    this.index = index;
  }
}

export class ConnectionPool {
  readonly #options: LdapDirectoryOptions;
  readonly #logger: DirectoryLogger;
  readonly #slots: Slot[];
  readonly #walkWaiters: Array<() => void> = [];
  #nextSlot = 0;
  #closed = false;

  constructor(options: LdapDirectoryOptions, logger: DirectoryLogger) {
    if (!Number.isInteger(options.poolSize) || options.poolSize < 1) {
      throw new Error(`poolSize must be a positive integer, got ${options.poolSize}`);
    }
    if (options.startTls && options.url.startsWith('ldaps:')) {
      throw new Error('startTls applies to ldap:// URLs; ldaps:// is TLS from the first byte');
    }
    this.#options = options;
    this.#logger = logger;
    this.#slots = Array.from({ length: options.poolSize }, (_, index) => new Slot(index));
  }

  /** Runs `operation` on a bound connection; see the file comment for retries. */
  async run<T>(
    operation: (client: Client, connection: PooledConnection) => Promise<T>,
    mode: RunMode,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw new Error('the directory connection pool is closed');
      const slot = mode.pagedWalk ? await this.#leaseForWalk() : this.#leastBusySlot();
      slot.inFlight++;
      let connection: PooledConnection | undefined;
      try {
        try {
          connection = await this.#connection(slot);
        } catch (error) {
          // Nothing was sent. Anything but an LDAP result (a failed bind) is the connection's fault:
          // refused, timed out, TLS handshake or certificate rejected.
          throw error instanceof ResultCodeError || error instanceof RequestNotSentError
            ? error
            : new RequestNotSentError(`cannot connect to ${this.#options.url}: ${(error as Error).message}`, {
                cause: error,
              });
        }
        coalesceWrites(connection.socket);
        return await operation(connection.client, connection);
      } catch (error) {
        const exhausted = mode.exhaustsConnection?.(error) === true;
        if (!exhausted && !isTransportFailure(error)) throw error;
        this.#drop(slot, connection, error, exhausted ? 'connection replaced' : 'connection lost');
        const mayRetry = exhausted || mode.idempotent;
        if (!mayRetry || attempt >= 2) throw error;
      } finally {
        slot.inFlight--;
        if (mode.pagedWalk) this.#endWalk(slot);
      }
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
  ): Promise<T | undefined> {
    const slot = this.#slots.find((candidate) => candidate.connection === connection);
    if (this.#closed || !slot || !connection.usable) return undefined;
    slot.inFlight++;
    try {
      coalesceWrites(connection.socket);
      return await operation(connection.client);
    } catch (error) {
      if (isTransportFailure(error)) this.#drop(slot, connection, error, 'connection lost');
      throw error;
    } finally {
      slot.inFlight--;
    }
  }

  /**
   * A bound connection outside the pool's slots, for state that outlives one operation (a paged
   * search continued by later requests); the caller disposes of it.
   */
  async openDedicated(): Promise<PooledConnection> {
    if (this.#closed) throw new Error('the directory connection pool is closed');
    return this.#open();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      this.#slots.map(async (slot) => {
        const connection = slot.connection ?? (await slot.opening?.catch(() => undefined));
        slot.connection = undefined;
        if (connection?.usable) await connection.client.unbind().catch(() => connection.socket.destroy());
        else connection?.socket.destroy();
      }),
    );
    for (const wake of this.#walkWaiters.splice(0)) wake();
  }

  #leastBusySlot(candidates: Slot[] = this.#slots): Slot {
    // Round-robin start so that ties spread over the slots.
    const start = this.#nextSlot++ % candidates.length;
    let best = candidates[start] as Slot;
    for (let offset = 1; offset < candidates.length; offset++) {
      const slot = candidates[(start + offset) % candidates.length] as Slot;
      if (slot.inFlight < best.inFlight) best = slot;
    }
    return best;
  }

  async #leaseForWalk(): Promise<Slot> {
    for (;;) {
      const free = this.#slots.filter((slot) => !slot.pagedWalkActive);
      if (free.length > 0) {
        const slot = this.#leastBusySlot(free);
        slot.pagedWalkActive = true;
        return slot;
      }
      await new Promise<void>((resolve) => this.#walkWaiters.push(resolve));
      if (this.#closed) throw new Error('the directory connection pool is closed');
    }
  }

  #endWalk(slot: Slot): void {
    slot.pagedWalkActive = false;
    this.#walkWaiters.shift()?.();
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
      slot.opening = this.#open().then(
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

  /** One TCP (or TLS) connection, upgraded with StartTLS if configured, bound as the service account. */
  async #open(): Promise<PooledConnection> {
    const options = this.#options;
    const url = new URL(options.url);
    let socket: net.Socket | undefined;
    const remember = (created: net.Socket) => {
      socket = created;
    };
    const client = new Client({
      url: options.url,
      connectTimeout: options.connectTimeoutMs,
      timeout: options.operationTimeoutMs,
      ...(url.protocol === 'ldaps:'
        ? {
            tlsOptions: this.#tlsOptions(url.hostname),
            createSecureConnection: connectOnce(tls.connect, remember),
          }
        : { createConnection: connectOnce(net.connect, remember) }),
    });
    try {
      if (options.startTls) await client.startTLS(this.#tlsOptions(url.hostname));
      if (options.bindDn) await client.bind(options.bindDn, options.bindPassword ?? '');
      if (!socket) throw new RequestNotSentError('ldapts opened no socket');
      return new PooledConnection(client, socket);
    } catch (error) {
      socket?.destroy();
      throw error;
    }
  }

  #tlsOptions(hostname: string): tls.ConnectionOptions {
    const configured = this.#options.tls ?? {};
    // The server's certificate is checked against serverName, else the URL's host.
    const serverName = configured.serverName ?? (net.isIP(hostname) === 0 ? hostname : undefined);
    return {
      host: hostname,
      ...(serverName ? { servername: serverName } : {}),
      ...(configured.ca !== undefined ? { ca: configured.ca } : {}),
      rejectUnauthorized: configured.rejectUnauthorized ?? true,
    };
  }
}

/**
 * Wraps a connect function so that it works once per Client, and hands the socket to `created`.
 * ldapts calls it again when a Client whose socket closed is used; refusing makes that a transport
 * failure the pool handles.
 */
function connectOnce<F extends (...args: never[]) => net.Socket>(
  connect: F,
  created: (socket: net.Socket) => void,
): F {
  let used = false;
  return ((...args: Parameters<F>) => {
    if (used) throw new RequestNotSentError('connection to the directory was lost');
    used = true;
    const socket = connect(...args);
    created(socket);
    return socket;
  }) as F;
}

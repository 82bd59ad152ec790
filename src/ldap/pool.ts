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
import { Client } from 'ldapts';
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

class Slot {
  readonly index: number;
  client: Client | undefined;
  opening: Promise<Client> | undefined;
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
  async run<T>(operation: (client: Client) => Promise<T>, mode: RunMode): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw new Error('the directory connection pool is closed');
      const slot = mode.pagedWalk ? await this.#leaseForWalk() : this.#leastBusySlot();
      slot.inFlight++;
      let client: Client | undefined;
      try {
        try {
          client = await this.#connectedClient(slot);
        } catch (error) {
          throw isTransportFailure(error) && !(error instanceof RequestNotSentError)
            ? new RequestNotSentError(`cannot connect to ${this.#options.url}: ${(error as Error).message}`, {
                cause: error,
              })
            : error;
        }
        return await operation(client);
      } catch (error) {
        const exhausted = mode.exhaustsConnection?.(error) === true;
        if (!exhausted && !isTransportFailure(error)) throw error;
        this.#drop(slot, client, error, exhausted ? 'connection replaced' : 'connection lost');
        const mayRetry = exhausted || mode.idempotent;
        if (!mayRetry || attempt >= 2) throw error;
      } finally {
        slot.inFlight--;
        if (mode.pagedWalk) this.#endWalk(slot);
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      this.#slots.map(async (slot) => {
        const client = slot.client ?? (await slot.opening?.catch(() => undefined));
        slot.client = undefined;
        await client?.unbind().catch(() => {});
      }),
    );
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

  async #connectedClient(slot: Slot): Promise<Client> {
    if (slot.client?.isConnected) return slot.client;
    if (slot.client)
      this.#drop(slot, slot.client, new RequestNotSentError('closed by the directory'), 'connection lost');
    if (!slot.opening) {
      slot.opening = this.#open().then(
        (client) => {
          slot.opening = undefined;
          if (this.#closed) {
            void client.unbind().catch(() => {});
            throw new Error('the directory connection pool is closed');
          }
          slot.client = client;
          return client;
        },
        (error: unknown) => {
          slot.opening = undefined;
          throw error;
        },
      );
    }
    return slot.opening;
  }

  #drop(slot: Slot, client: Client | undefined, reason: unknown, what: string): void {
    if (client === undefined || slot.client !== client) return;
    slot.client = undefined;
    this.#logger.warn(
      {
        slot: slot.index,
        url: this.#options.url,
        err: reason instanceof Error ? reason.message : String(reason),
      },
      `directory ${what}; a new one is opened on next use`,
    );
    void client.unbind().catch(() => {});
  }

  /** One TCP (or TLS) connection, upgraded with StartTLS if configured, bound as the service account. */
  async #open(): Promise<Client> {
    const options = this.#options;
    const url = new URL(options.url);
    const client = new Client({
      url: options.url,
      connectTimeout: options.connectTimeoutMs,
      timeout: options.operationTimeoutMs,
      ...(url.protocol === 'ldaps:'
        ? { tlsOptions: this.#tlsOptions(url.hostname), createSecureConnection: connectOnce(tls.connect) }
        : { createConnection: connectOnce(net.connect) }),
    });
    try {
      if (options.startTls) await client.startTLS(this.#tlsOptions(url.hostname));
      if (options.bindDn) await client.bind(options.bindDn, options.bindPassword ?? '');
      return client;
    } catch (error) {
      await client.unbind().catch(() => {});
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
 * Wraps a connect function so that it works once per Client. ldapts calls it again when a Client
 * whose socket closed is used; refusing makes that a transport failure the pool handles.
 */
function connectOnce<F extends (...args: never[]) => unknown>(connect: F): F {
  let used = false;
  return ((...args: Parameters<F>) => {
    if (used) throw new RequestNotSentError('connection to the directory was lost');
    used = true;
    return connect(...args);
  }) as F;
}

/**
 * Several directory servers (replicas, domain controllers), one connection pool each, behind the
 * pool's own interface (docs/architecture.md §Directory failover):
 *
 * - Reads go to the first server listed that is up, writes to the first readWrite one that is up.
 *   Preferring the first rather than spreading keeps read-your-writes where the writable server is
 *   listed first (replicas lag), and state a server keeps per connection (VLV sorted lists, paged
 *   cookies) stays where it was made anyway: `runOn` and dedicated connections are bound to theirs.
 * - A server whose connection cannot be opened, breaks, or does not answer within the operation
 *   timeout is marked down (server-health.ts) and probed in the background until it answers; then
 *   it is taken back, and being listed first, serves again (fail-back).
 * - The failed operation goes again on another server when that is safe: a read always, a write
 *   only when it surely never reached the directory (RequestNotSentError: no connection).
 * - With several servers and none up, a read waits (within its deadline) for one to answer; a
 *   write with no writable server up gets UnavailableError at once (503), while reads go on.
 * - With one server nothing changes: every request tries it, as before.
 */
import type { Client } from 'ldapts';
import { DeadlineExceededError, remainingMs } from '../lib/deadline.ts';
import { UnavailableError } from '../ports/errors.ts';
import { openConnection, type PooledConnection } from './connection.ts';
import { hasResultCode, isTransportFailure, RequestNotSentError } from './errors.ts';
import type { DirectoryLogger, LdapDirectoryOptions } from './options.ts';
import { ConnectionPool, type OperationRunner, type RunMode } from './pool.ts';
import { type ProbePolicy, ServerHealth, type ServerRole, type ServerStatus } from './server-health.ts';

/** RFC 4511 §4.1.10: the server does not hold the entry for writes (a read-only replica's updateref). */
const REFERRAL = 10;
const DEFAULT_PROBE_POLICY: ProbePolicy = { probeInitialMs: 250, probeMaxMs: 5_000 };

interface Server {
  /** 1-based position in the list: how /ready names it (no URL on a public page). */
  position: number;
  url: string;
  role: ServerRole;
  pool: ConnectionPool;
  health: ServerHealth;
  probeTimer: NodeJS.Timeout | undefined;
  /** A probe or heartbeat check is running: never two at once. */
  checking: boolean;
  /** Reads in flight on this server, abandoned (and sent elsewhere) when it is marked down. */
  abandons: Set<(error: Error) => void>;
}

export class ServerSet implements OperationRunner {
  readonly #servers: Server[];
  readonly #options: LdapDirectoryOptions;
  readonly #logger: DirectoryLogger;
  readonly #policy: ProbePolicy;
  /** With several servers: every probeMaxMs, each server up is checked too (see #heartbeat). */
  readonly #heartbeat: NodeJS.Timeout | undefined;
  /** Reads waiting for a server to come back (several servers, none up). */
  readonly #waiters = new Set<() => void>();
  #closed = false;

  constructor(options: LdapDirectoryOptions, logger: DirectoryLogger) {
    const listed = options.servers ?? [{ url: options.url, role: 'readWrite' as const }];
    if (listed.length === 0) throw new Error('at least one directory server is needed');
    const several = listed.length > 1;
    this.#options = options;
    this.#logger = logger;
    this.#policy = {
      probeInitialMs: options.probeInitialMs ?? DEFAULT_PROBE_POLICY.probeInitialMs,
      probeMaxMs: options.probeMaxMs ?? DEFAULT_PROBE_POLICY.probeMaxMs,
    };
    this.#servers = listed.map((server, index) => ({
      position: index + 1,
      url: server.url,
      role: server.role,
      pool: new ConnectionPool({ ...options, url: server.url }, logger, !several),
      health: new ServerHealth(Date.now()),
      probeTimer: undefined,
      checking: false,
      abandons: new Set(),
    }));
    this.#heartbeat = several
      ? setInterval(() => this.#checkUpServers(), this.#policy.probeMaxMs)
      : undefined;
    this.#heartbeat?.unref();
  }

  async run<T>(
    operation: (client: Client, connection: PooledConnection) => Promise<T>,
    mode: RunMode,
  ): Promise<T> {
    const write = !mode.idempotent;
    /** Servers that answered this write with a referral: read-only, whatever the configuration says. */
    const referred = new Set<Server>();
    for (;;) {
      const server = await this.#choose(write, referred, mode.deadlineAt);
      try {
        const running = server.pool.run(operation, mode);
        const result = await (write || this.#servers.length === 1
          ? running
          : this.#abandonable(server, running));
        if (server.health.state === 'down') this.#answered(server);
        return result;
      } catch (error) {
        if (write && hasResultCode(error, REFERRAL)) {
          // Not performed (RFC 4511 §4.1.10): safe to send to the next writable server.
          this.#logger.warn(
            { server: server.position, url: server.url },
            'a readWrite directory server answered a write with a referral; trying the next writable one',
          );
          referred.add(server);
          continue;
        }
        if (!isTransportFailure(error)) throw error;
        this.#markDown(server, error);
        if (!this.#mayGoAgain(error, mode, write, referred)) throw error;
      }
    }
  }

  async runOn<T>(
    connection: PooledConnection,
    operation: (client: Client) => Promise<T>,
    deadlineAt?: number,
  ): Promise<T | undefined> {
    const server = this.#servers.find((candidate) => candidate.pool.holds(connection));
    if (!server) return undefined;
    try {
      return await server.pool.runOn(connection, operation, deadlineAt);
    } catch (error) {
      if (isTransportFailure(error)) this.#markDown(server, error);
      throw error;
    }
  }

  /** A connection for a paged walk kept between requests, on the first server up. */
  async openDedicated(): Promise<PooledConnection> {
    const up = this.#servers.filter((server) => server.health.state === 'up');
    let lastError: unknown;
    for (const server of up.length > 0 ? up : this.#servers.slice(0, 1)) {
      try {
        return await server.pool.openDedicated();
      } catch (error) {
        if (!isTransportFailure(error)) throw error;
        this.#markDown(server, error);
        lastError = error;
      }
    }
    throw lastError;
  }

  /** Each server's state, in the order listed. */
  status(): ServerStatus[] {
    return this.#servers.map((server) => ({
      url: server.url,
      role: server.role,
      state: server.health.state,
      since: server.health.since,
      ...(server.health.reason ? { reason: server.health.reason } : {}),
    }));
  }

  /** The writable server writes go to now: the first readWrite one up, else the first listed. */
  writableUrl(): string {
    const writable = this.#servers.filter((server) => server.role === 'readWrite');
    return (writable.find((server) => server.health.state === 'up') ?? writable[0] ?? this.#first).url;
  }

  get usage(): { connections: number; inFlight: number; waiting: number; retiring: number } {
    const total = { connections: 0, inFlight: 0, waiting: 0, retiring: 0 };
    for (const { pool } of this.#servers) {
      const usage = pool.usage;
      total.connections += usage.connections;
      total.inFlight += usage.inFlight;
      total.waiting += usage.waiting;
      total.retiring += usage.retiring;
    }
    return total;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    for (const server of this.#servers) clearTimeout(server.probeTimer);
    this.#wake();
    await Promise.all(this.#servers.map((server) => server.pool.close()));
  }

  get #first(): Server {
    return this.#servers[0] as Server;
  }

  /** The server for the next attempt; see the file comment for what happens when none is up. */
  async #choose(
    write: boolean,
    referred: ReadonlySet<Server>,
    deadlineAt: number | undefined,
  ): Promise<Server> {
    for (;;) {
      if (this.#closed) throw new Error('the directory connection pool is closed');
      const eligible = this.#servers.filter(
        (server) => !referred.has(server) && (!write || server.role === 'readWrite'),
      );
      const up = eligible.find((server) => server.health.state === 'up');
      if (up) return up;
      const first = eligible[0];
      if (!first)
        throw new UnavailableError(
          'no writable directory server accepted the write (each answered with a referral)',
        );
      // One server, or a call outside a request (start-up, workers): try it, as with one URL.
      if (this.#servers.length === 1 || deadlineAt === undefined) return first;
      if (write) {
        throw new UnavailableError(
          'no writable directory server is up; writes are refused until one answers (reads go on)',
        );
      }
      await this.#waitForAnswer(deadlineAt);
    }
  }

  /**
   * A read that gives up on its server when the server is marked down (another read on it timed
   * out): a frozen server then costs one operation timeout, not one per read queued on it. The
   * operation itself runs on to its timeout and its late answer is dropped. Writes are not
   * abandoned: their outcome must be known.
   */
  #abandonable<T>(server: Server, running: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      server.abandons.add(reject);
      running.then(resolve, reject).finally(() => server.abandons.delete(reject));
    });
  }

  /** Whether an operation whose server failed goes again, on another one. */
  #mayGoAgain(error: unknown, mode: RunMode, write: boolean, referred: ReadonlySet<Server>): boolean {
    if (this.#servers.length === 1) return false;
    // A write that may have reached the directory has an unknown outcome: never sent twice.
    if (write && !(error instanceof RequestNotSentError)) return false;
    if (mode.deadlineAt !== undefined) return true;
    return this.#servers.some(
      (server) =>
        server.health.state === 'up' && !referred.has(server) && (!write || server.role === 'readWrite'),
    );
  }

  #markDown(server: Server, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    if (!server.health.failed(Date.now(), reason)) return;
    const abandoned = new RequestNotSentError(
      `abandoned: directory server ${server.position} was marked down`,
    );
    for (const abandon of server.abandons) abandon(abandoned);
    server.abandons.clear();
    this.#logger.warn(
      { server: server.position, url: server.url, role: server.role, err: reason },
      'directory server marked down; probing it until it answers',
    );
    this.#scheduleProbe(server);
  }

  #answered(server: Server): void {
    if (!server.health.answered(Date.now())) return;
    clearTimeout(server.probeTimer);
    server.probeTimer = undefined;
    this.#logger.info(
      { server: server.position, url: server.url, role: server.role },
      'directory server answers again; taken back',
    );
    this.#wake();
  }

  #scheduleProbe(server: Server): void {
    if (this.#closed || server.probeTimer) return;
    server.probeTimer = setTimeout(() => {
      server.probeTimer = undefined;
      void this.#probe(server);
    }, server.health.nextProbeInMs(this.#policy));
    server.probeTimer.unref();
  }

  /**
   * Servers up but not in use (a replica behind a healthy provider) would only be found dead when
   * needed: each is checked every probeMaxMs, so /ready and /metrics tell the truth about them.
   */
  #checkUpServers(): void {
    for (const server of this.#servers) {
      if (server.health.state !== 'up' || server.checking) continue;
      void this.#answers(server).then((error) => {
        if (error !== undefined && server.health.state === 'up') this.#markDown(server, error);
      });
    }
  }

  async #probe(server: Server): Promise<void> {
    if (this.#closed || server.health.state === 'up') return;
    // A heartbeat check is still out: look again after the next interval.
    if (server.checking) return this.#scheduleProbe(server);
    const error = await this.#answers(server);
    if (error === undefined) this.#answered(server);
    else {
      server.health.probeFailed(error instanceof Error ? error.message : String(error));
      this.#scheduleProbe(server);
    }
  }

  /**
   * Connect, bind and read the rootDSE on a connection of its own (the pool's are left alone),
   * bounded by the connect and operation timeouts: undefined when it answered, else the error.
   */
  async #answers(server: Server): Promise<unknown> {
    server.checking = true;
    let connection: PooledConnection | undefined;
    try {
      connection = await openConnection({ ...this.#options, url: server.url });
      await connection.client.search('', { scope: 'base', attributes: ['namingContexts'] });
      return undefined;
    } catch (error) {
      return error;
    } finally {
      server.checking = false;
      connection?.dispose();
    }
  }

  /** Resolves when a server is taken back; DeadlineExceededError (nothing sent) at the deadline. */
  #waitForAnswer(deadlineAt: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(
        () => {
          this.#waiters.delete(wake);
          reject(new DeadlineExceededError('waiting for a directory server to answer', false));
        },
        Math.max(0, remainingMs(deadlineAt) ?? 0),
      );
      this.#waiters.add(wake);
    });
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}

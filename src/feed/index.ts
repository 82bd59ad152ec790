/**
 * The change feed as the composition root starts it (docs/architecture.md §Change feed): a
 * consumer polling the directory's log while it holds the lease, its figures for /ready and
 * /metrics, and reconciliation for the CLI and the gap fallback.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { FeedConfig } from '../config/index.ts';
import type { EventPublisher } from '../jobs/publisher.ts';
import type { MappingSet } from '../mapping/compiled.ts';
import { reqStartMicros } from './accesslog.ts';
import type { FeedLog, FeedSourceConsumer, FeedStatus } from './consumer.ts';
import { ChangelogReader } from './dirsrv/reader.ts';
import { FeedLease } from './lease.ts';
import type { FeedConnection, FeedReader } from './reader.ts';
import { type ReconcileObserver, type ReconcileReport, reconcile } from './reconcile.ts';
import { consumerOfSource } from './source.ts';

export { type LogRecord, parseLogRecord, parseModifications, reqStartMicros } from './accesslog.ts';
export type { FeedStatus } from './consumer.ts';
export { changeNumberOf } from './dirsrv/consumer.ts';
export { feedKeys, readPosition } from './lease.ts';
export { markingOwnWrites, type OwnWriteMarking } from './own-writes.ts';
export { FeedReader } from './reader.ts';
export { type ReconcileCounts, type ReconcileReport, reconcile } from './reconcile.ts';

export interface FeedOptions {
  config: FeedConfig;
  keyPrefix: string;
  redis: Redis;
  publisher: EventPublisher;
  connection: FeedConnection;
  mappings: () => MappingSet;
  log: FeedLog;
}

export interface FeedRuntime {
  status(): FeedStatus;
  /** Plain figures for a metrics registry (gauges and counters; no prom-client here). */
  metrics(): FeedMetrics;
  /** Problems for /ready's warnings (empty when all is well). */
  warnings(): string[];
  /** One poll now (tests and benchmarks; the timer polls on its own). */
  pollOnce(): Promise<number>;
  reconcile(options: { services?: string[]; dryRun?: boolean }): Promise<ReconcileReport>;
  stop(): Promise<void>;
}

export interface FeedMetrics {
  /** 1 while this process holds the lease. */
  active: number;
  /** The position as seconds since the epoch (0 before the first). */
  positionSeconds: number;
  lagSeconds: number;
  /** Events this process queued, by origin (`scim`: the journal's; `directory`: the feed's and reconciliations'). */
  eventsByOrigin: { scim: number; directory: number };
  records: number;
  ownWrites: number;
  reconciliations: number;
}

const ERROR_BACKOFF_MS = 2_000;

export function startFeed(options: FeedOptions): FeedRuntime {
  // Members are named by DN; their SCIM id is the mapping's id attribute (entryUUID, nsUniqueId).
  const idAttribute = options.mappings().resourceTypes[0]?.directory.idAttribute ?? 'entryUUID';
  const reader = new ChangelogReader(options.connection, options.config.logBase, idAttribute);
  const lease = feedLease(options);
  const runReconcile = reconcilerOf(options, reader);
  const consumer = consumerOfSource({
    ...options,
    reader,
    lease,
    ownDn: options.connection.bindDn,
    reconcileAll: reconcileAllOf(options, runReconcile),
  });
  return feedRuntime(options, {
    consumer,
    reader,
    lease,
    reconcile: runReconcile,
    metrics: () => feedMetrics(consumer.status, lease.token !== undefined, options.publisher),
    close: () => reader.close(),
  });
}

/** The lease every feed kind polls under: one active consumer across all instances. */
export function feedLease(options: FeedOptions): FeedLease {
  return new FeedLease(
    options.redis,
    options.keyPrefix,
    `${hostname()}:${process.pid}:${randomUUID()}`,
    options.config.leaseTtlMs,
  );
}

type Reconciler = FeedRuntime['reconcile'];

/** Reconciliation of the configured services over `walker`'s paged walk of the directory. */
export function reconcilerOf(
  options: FeedOptions,
  walker: FeedReader,
  observer?: ReconcileObserver,
): Reconciler {
  return (request) =>
    reconcile({
      redis: options.redis,
      keyPrefix: options.keyPrefix,
      publisher: options.publisher,
      reader: walker,
      mappings: options.mappings(),
      services: request.services ?? options.publisher.services.map((s) => s.name),
      dryRun: request.dryRun ?? false,
      ...(observer ? { observer } : {}),
    });
}

/** The gap fallback: a whole reconciliation, logged. */
export function reconcileAllOf(
  options: FeedOptions,
  runReconcile: Reconciler,
): () => Promise<ReconcileReport> {
  return async () => {
    const report = await runReconcile({});
    options.log.info({ report }, 'feed: reconciliation finished');
    return report;
  };
}

/** The runtime around a polling consumer, the same for every feed kind. */
export function feedRuntime(
  options: FeedOptions,
  parts: {
    consumer: FeedSourceConsumer;
    reader: { reset(): Promise<void> };
    lease: FeedLease;
    reconcile: Reconciler;
    metrics: () => FeedMetrics;
    /** Closes the feed's own connections. */
    close: () => Promise<void>;
  },
): FeedRuntime {
  const { consumer, lease } = parts;
  let stopped = false;
  const polling = startPolling(consumer, parts.reader, lease, options.config, options.log);
  return {
    status: () => ({ ...consumer.status, ...(stopped ? { role: 'stopped' as const } : {}) }),
    metrics: parts.metrics,
    warnings: () => feedWarnings(consumer.status, options.config),
    pollOnce: () => consumer.pollOnce(),
    reconcile: parts.reconcile,
    async stop() {
      stopped = true;
      await polling.stop();
      await lease.release();
      await parts.close();
    },
  };
}

/** Polls on a timer (at once again while batches come full; slower while standing by). */
export function startPolling(
  consumer: Pick<FeedSourceConsumer, 'pollOnce' | 'status'>,
  reader: { reset(): Promise<void> },
  lease: FeedLease,
  config: FeedConfig,
  log: FeedLog,
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  const schedule = (delayMs: number) => {
    if (!stopped) timer = setTimeout(loop, delayMs);
  };
  const loop = () => {
    running = consumer
      .pollOnce()
      .then((handled) => {
        consumer.status.lastError = undefined;
        const standby = consumer.status.role === 'standby';
        schedule(handled >= config.batchSize ? 0 : standby ? config.leaseTtlMs / 3 : config.pollIntervalMs);
      })
      .catch(async (error: Error) => {
        consumer.status.lastError = error.message;
        log.warn({ err: error.message }, 'feed: poll failed; retrying');
        await reader.reset();
        schedule(ERROR_BACKOFF_MS);
      });
  };
  // The lease is renewed on its own clock too, so a long reconciliation does not lose it.
  const renewal = setInterval(() => {
    if (lease.token !== undefined) void lease.hold().catch(() => undefined);
  }, config.leaseTtlMs / 3);
  renewal.unref();
  schedule(0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(renewal);
      await running?.catch(() => undefined);
    },
  };
}

/** What /ready should say about the feed: a failing poll, or a consumer falling behind. */
export function feedWarnings(status: FeedStatus, config: Pick<FeedConfig, 'pollIntervalMs'>): string[] {
  const warnings: string[] = [];
  if (status.lastError) warnings.push(`feed: the last poll failed (${status.lastError})`);
  if (status.lagMs > 60_000)
    warnings.push(`feed: ${Math.round(status.lagMs / 1000)} s behind the directory log`);
  const idle = status.lastPollAt === undefined ? 0 : Date.now() - status.lastPollAt;
  if (status.role === 'active' && idle > Math.max(60_000, config.pollIntervalMs * 20))
    warnings.push(`feed: no poll for ${Math.round(idle / 1000)} s`);
  return warnings;
}

function feedMetrics(status: FeedStatus, active: boolean, publisher: EventPublisher): FeedMetrics {
  return {
    active: active ? 1 : 0,
    positionSeconds: status.position ? reqStartMicros(status.position) / 1e6 : 0,
    lagSeconds: status.lagMs / 1000,
    eventsByOrigin: publisher.queuedByOrigin,
    records: status.records,
    ownWrites: status.ownWrites,
    reconciliations: status.reconciliations,
  };
}

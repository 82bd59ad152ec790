/**
 * The change feed for Active Directory (docs/architecture.md §Change feed): uSNChanged polling
 * with tombstones through the Show Deleted control, behind the same lease, position hash,
 * publisher, digests and reconciliation as the accesslog feed.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type FeedMetrics,
  type FeedOptions,
  type FeedRuntime,
  feedWarnings,
  startPolling,
} from '../index.ts';
import { FeedLease } from '../lease.ts';
import { OwnWrites } from '../own-writes.ts';
import { FeedReader } from '../reader.ts';
import { reconcile } from '../reconcile.ts';
import { AdFeedConsumer } from './consumer.ts';
import { AdReader } from './reader.ts';
import { adStateRefresher } from './refresh.ts';

export function startAdFeed(options: FeedOptions): FeedRuntime {
  const { config, log } = options;
  const reader = new AdReader(options.connection);
  // Reconciliation walks the resource types with the accesslog feed's paged reader (no log needed).
  const walker = new FeedReader(options.connection, config.logBase);
  const lease = new FeedLease(
    options.redis,
    options.keyPrefix,
    `${hostname()}:${process.pid}:${randomUUID()}`,
    config.leaseTtlMs,
  );
  const runReconcile = (request: { services?: string[]; dryRun?: boolean }) =>
    reconcile({
      redis: options.redis,
      keyPrefix: options.keyPrefix,
      publisher: options.publisher,
      reader: walker,
      mappings: options.mappings(),
      services: request.services ?? options.publisher.services.map((s) => s.name),
      dryRun: request.dryRun ?? false,
      observer: adStateRefresher(options.redis, options.keyPrefix, reader),
    });
  const consumer = new AdFeedConsumer({
    ...options,
    reader,
    lease,
    ownWrites: new OwnWrites(options.redis, options.keyPrefix),
    reconcileAll: async () => {
      const report = await runReconcile({});
      log.info({ report }, 'feed: reconciliation finished');
      return report;
    },
  });
  let stopped = false;
  const polling = startPolling(consumer, reader, lease, config, log);
  return {
    status: () => ({ ...consumer.status, ...(stopped ? { role: 'stopped' as const } : {}) }),
    metrics: (): FeedMetrics => ({
      active: lease.token !== undefined ? 1 : 0,
      // The time the feed has read everything up to (the DC's USNs are not times).
      positionSeconds: consumer.status.position ? (Date.now() - consumer.status.lagMs) / 1000 : 0,
      lagSeconds: consumer.status.lagMs / 1000,
      eventsByOrigin: options.publisher.queuedByOrigin,
      records: consumer.status.records,
      ownWrites: consumer.status.ownWrites,
      reconciliations: consumer.status.reconciliations,
    }),
    warnings: () => feedWarnings(consumer.status, config),
    pollOnce: () => consumer.pollOnce(),
    reconcile: runReconcile,
    async stop() {
      stopped = true;
      await polling.stop();
      await lease.release();
      await reader.close();
      await walker.close();
    },
  };
}

/**
 * The change feed for Active Directory (docs/architecture.md §Change feed): uSNChanged polling
 * with tombstones through the Show Deleted control, behind the same lease, position hash,
 * publisher, digests and reconciliation as the accesslog feed.
 */
import {
  type FeedMetrics,
  type FeedOptions,
  type FeedRuntime,
  feedLease,
  feedRuntime,
  reconcileAllOf,
  reconcilerOf,
} from '../index.ts';
import { OwnWrites } from '../own-writes.ts';
import { FeedReader } from '../reader.ts';
import { AdFeedConsumer } from './consumer.ts';
import { AdReader } from './reader.ts';
import { adStateRefresher } from './refresh.ts';

export function startAdFeed(options: FeedOptions): FeedRuntime {
  const reader = new AdReader(options.connection);
  // Reconciliation walks the resource types with the accesslog feed's paged reader (no log needed).
  const walker = new FeedReader(options.connection, options.config.logBase);
  const lease = feedLease(options);
  const runReconcile = reconcilerOf(
    options,
    walker,
    adStateRefresher(options.redis, options.keyPrefix, reader),
  );
  const consumer = new AdFeedConsumer({
    ...options,
    reader,
    lease,
    ownWrites: new OwnWrites(options.redis, options.keyPrefix),
    reconcileAll: reconcileAllOf(options, runReconcile),
  });
  return feedRuntime(options, {
    consumer,
    reader,
    lease,
    reconcile: runReconcile,
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
    close: async () => {
      await reader.close();
      await walker.close();
    },
  });
}

/**
 * The change feed's start-up steps (docs/architecture.md §Change feed): in a bridge process that
 * runs delivery workers, in a `scim-ldap-bridge worker` process, and for `scim-ldap-bridge
 * reconcile`. Part of the composition root, like main.ts and start-steps.ts.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type BridgeConfig, ConfigError } from './config/index.ts';
import { FeedReader, type FeedRuntime, type ReconcileReport, reconcile, startFeed } from './feed/index.ts';
import { EventPublisher, type EventsRuntime } from './jobs/index.ts';
import type { LocalServices } from './localdev/stack.ts';
import { STANDARD_SCHEMAS } from './mapping/catalog.ts';
import type { MappingSet } from './mapping/compiled.ts';
import { loadMappingDirectory } from './mapping/load.ts';
import type { ChangeEvent } from './ports/events.ts';
import { createRedis, redisConfigured } from './redis-clients.ts';

/**
 * The change feed (docs/architecture.md §Change feed), in processes that run delivery workers,
 * over its own connection to the same directory as the same service account.
 */
export function startFeedFor(
  started: { config: BridgeConfig; local: LocalServices | undefined; redis: Redis; logger: Logger },
  events: EventsRuntime | undefined,
  mappings: () => MappingSet,
): FeedRuntime | undefined {
  const { config, local, redis, logger } = started;
  if (!events || !config.feed.enabled || !config.events.workersInProcess) return undefined;
  const url = config.ldap.url ?? local?.slapd?.url ?? '';
  const bindDn = config.ldap.url ? (config.ldap.bindDn ?? '') : (local?.slapd?.serviceDn ?? '');
  const bindPassword = config.ldap.url
    ? (config.ldap.bindPassword ?? '')
    : (local?.slapd?.servicePassword ?? '');
  return startFeed({
    config: config.feed,
    keyPrefix: config.redis.keyPrefix,
    redis,
    publisher: events.publisher,
    connection: { url, bindDn, bindPassword, timeoutMs: config.ldap.operationTimeoutMs },
    mappings,
    log: logger.child({ component: 'feed' }),
  });
}

/**
 * The change feed in a `scim-ldap-bridge worker` process (it needs ldap.url; the mapping files are
 * read once, at start). Undefined when feed.enabled is off.
 */
export function startFeedInWorker(config: BridgeConfig, logger: Logger): FeedRuntime | undefined {
  if (!config.feed.enabled) return undefined;
  if (!config.ldap.url)
    throw new ConfigError([
      {
        setting: 'ldap.url',
        source: 'default',
        text: 'the change feed (feed.enabled) needs the directory: ldap.url',
      },
    ]);
  const mappings = loadMappingDirectory(config.mappings.dir, STANDARD_SCHEMAS);
  const redis = createRedis(config, 'queue');
  redis.on('error', (error) => logger.warn({ err: error.message }, 'feed: redis connection problem'));
  const publisher = new EventPublisher({
    connection: redis,
    keyPrefix: config.redis.keyPrefix,
    events: config.events,
  });
  const feed = startFeed({
    config: config.feed,
    keyPrefix: config.redis.keyPrefix,
    redis,
    publisher,
    connection: {
      url: config.ldap.url,
      bindDn: config.ldap.bindDn ?? '',
      bindPassword: config.ldap.bindPassword ?? '',
      timeoutMs: config.ldap.operationTimeoutMs,
    },
    mappings: () => mappings,
    log: logger.child({ component: 'feed' }),
  });
  return {
    ...feed,
    async stop() {
      await feed.stop();
      await publisher.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * For `scim-ldap-bridge reconcile`: the configured directory (ldap.url, the bind account) and
 * the shared Redis, the publisher of the configured services, the mapping files.
 */
export function openReconciliation(config: BridgeConfig): {
  run(options: {
    services: string[];
    dryRun: boolean;
    onDifference: (service: string, event: ChangeEvent) => void;
  }): Promise<ReconcileReport>;
  close(): Promise<void>;
} {
  const missing = [
    ...(config.ldap.url ? [] : ['ldap.url']),
    ...(redisConfigured(config) ? [] : ['redis.url']),
  ];
  if (missing.length > 0)
    throw new ConfigError(
      missing.map((setting) => ({
        setting,
        source: 'default' as const,
        text: 'reconcile compares the configured directory with the shared Redis; expected ldap.url and redis.url',
      })),
    );
  const mappings = loadMappingDirectory(config.mappings.dir, STANDARD_SCHEMAS);
  const redis = createRedis(config, 'queue');
  const publisher = new EventPublisher({
    connection: redis,
    keyPrefix: config.redis.keyPrefix,
    events: config.events,
  });
  const reader = new FeedReader(
    {
      url: config.ldap.url ?? '',
      bindDn: config.ldap.bindDn ?? '',
      bindPassword: config.ldap.bindPassword ?? '',
      timeoutMs: config.ldap.operationTimeoutMs,
    },
    config.feed.logBase,
  );
  return {
    run: (options) =>
      reconcile({ redis, keyPrefix: config.redis.keyPrefix, publisher, reader, mappings, ...options }),
    async close() {
      await reader.close();
      await publisher.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

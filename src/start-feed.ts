/**
 * The change feed's start-up steps (docs/architecture.md §Change feed): in a bridge process that
 * runs delivery workers, in a `scim-ldap-bridge worker` process, and for `scim-ldap-bridge
 * reconcile`. Part of the composition root, like main.ts and start-steps.ts.
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type BridgeConfig, ConfigError, preferredWritableUrl } from './config/index.ts';
import {
  FeedReader,
  type FeedRuntime,
  markingOwnWrites,
  type OwnWriteMarking,
  type ReconcileReport,
  reconcile,
} from './feed/index.ts';
import type { FeedConnection } from './feed/reader.ts';
import { startConfiguredFeed } from './feed/start.ts';
import { EventPublisher, type EventsRuntime } from './jobs/index.ts';
import type { LocalServices } from './localdev/stack.ts';
import { STANDARD_SCHEMAS } from './mapping/catalog.ts';
import type { MappingSet } from './mapping/compiled.ts';
import { loadMappingDirectory } from './mapping/load.ts';
import type { Directory } from './ports/directory.ts';
import type { ChangeEvent, ChangeJournal } from './ports/events.ts';

/** TLS for the feed's own connection, as the directory adapter's (ldap.tls). */
function feedTls(config: BridgeConfig): FeedConnection['tls'] {
  const { tls } = config.ldap;
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
    ...(tls.serverName ? { serverName: tls.serverName } : {}),
  };
}

/**
 * The journal, marking the bridge's writes for the feeds whose log cannot tell them from others
 * (src/feed/own-writes.ts): every write for Active Directory, deletes for the Retro Changelog.
 */
export function journalForFeed(
  config: BridgeConfig,
  started: { redis: Redis; directory: Directory },
  journal: ChangeJournal,
): ChangeJournal {
  const { source } = config.feed;
  if (!config.feed.enabled || source === 'accesslog') return journal;
  const marking = async (): Promise<OwnWriteMarking | undefined> => {
    if (source === 'ad') return 'ad';
    if (source === 'retro-changelog') return 'changelog-deletes';
    const { vendor } = await started.directory.capabilities();
    if (vendor === 'activeDirectory') return 'ad';
    return vendor === '389ds' ? 'changelog-deletes' : undefined;
  };
  return markingOwnWrites(journal, { redis: started.redis, keyPrefix: config.redis.keyPrefix, marking });
}

import { createRedis, redisConfigured } from './redis-clients.ts';

/**
 * The change feed (docs/architecture.md §Change feed), in processes that run delivery workers,
 * over its own connection to the same directory as the same service account.
 */
export function startFeedFor(
  started: {
    config: BridgeConfig;
    local: LocalServices | undefined;
    redis: Redis;
    logger: Logger;
    /** With several ldap.urls the feed follows the writable server (the accesslog is written there). */
    directory?: { writableUrl(): string };
  },
  events: EventsRuntime | undefined,
  mappings: () => MappingSet,
): FeedRuntime | undefined {
  const { config, local, redis, logger } = started;
  if (!events || !config.feed.enabled || !config.events.workersInProcess) return undefined;
  const configured = preferredWritableUrl(config.ldap);
  const url = configured ?? local?.slapd?.url ?? '';
  const bindDn = configured ? (config.ldap.bindDn ?? '') : (local?.slapd?.serviceDn ?? '');
  const bindPassword = configured ? (config.ldap.bindPassword ?? '') : (local?.slapd?.servicePassword ?? '');
  return startConfiguredFeed({
    config: config.feed,
    keyPrefix: config.redis.keyPrefix,
    redis,
    publisher: events.publisher,
    connection: {
      // Read at each (re)connection of the feed's reader.
      get url() {
        return started.directory?.writableUrl() ?? url;
      },
      bindDn,
      bindPassword,
      timeoutMs: config.ldap.operationTimeoutMs,
      ...(configured ? { tls: feedTls(config) } : {}),
    },
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
  const url = preferredWritableUrl(config.ldap);
  if (!url)
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
  const feed = startConfiguredFeed({
    config: config.feed,
    keyPrefix: config.redis.keyPrefix,
    redis,
    publisher,
    connection: {
      url,
      bindDn: config.ldap.bindDn ?? '',
      bindPassword: config.ldap.bindPassword ?? '',
      timeoutMs: config.ldap.operationTimeoutMs,
      tls: feedTls(config),
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
  const url = preferredWritableUrl(config.ldap);
  const missing = [...(url ? [] : ['ldap.url']), ...(redisConfigured(config) ? [] : ['redis.url'])];
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
      url: url ?? '',
      bindDn: config.ldap.bindDn ?? '',
      bindPassword: config.ldap.bindPassword ?? '',
      timeoutMs: config.ldap.operationTimeoutMs,
      tls: feedTls(config),
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

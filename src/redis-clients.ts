/**
 * The one place that builds ioredis clients from the `redis` configuration: one server (`url`,
 * or the local default's) or Redis Sentinel (`sentinels` + `name`, ioredis' own sentinel support:
 * it asks the sentinels for the master and follows a failover). Every client of the process comes
 * from here, BullMQ's included. Part of the composition root, like main.ts.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { BridgeConfig, RedisConfig } from './config/index.ts';

/**
 * What a client is for:
 *  - `server`: the server's shared client for per-request commands (idempotency, journal, tokens,
 *    rate limits, write notices): fails fast, never queues while disconnected, and gives up after
 *    `redis.commandTimeoutMs` (docs/architecture.md §Redis outage);
 *  - `events`: the server's queue connection (publisher, queue figures): fails fast too, so a
 *    Redis outage never piles commands up, but without a timeout (BullMQ scripts may run long);
 *  - `queue`: the feed, the worker process and the CLI: a retry per command, queued until connected;
 *  - `blocking`: BullMQ workers' blocking connections, which BullMQ requires to retry forever
 *    (`maxRetriesPerRequest: null`).
 */
export type RedisRole = 'server' | 'events' | 'queue' | 'blocking';

/** Builds a client of a role; the jobs layer gets this instead of a URL. */
export type RedisConnector = (role: RedisRole) => Redis;

/** Whether the configuration names a Redis (else the local default starts one). */
export function redisConfigured(config: BridgeConfig): boolean {
  return config.redis.url !== undefined || config.redis.sentinels !== undefined;
}

/** A sentinel's `host:port` (the schema checked the form; `[v6]:port` for IPv6). */
export function parseHostPort(text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':');
  const host = text.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(text.slice(at + 1)) };
}

function roleOptions(config: RedisConfig, role: RedisRole): RedisOptions {
  switch (role) {
    case 'server':
      return {
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        commandTimeout: config.commandTimeoutMs,
      };
    case 'events':
      return { maxRetriesPerRequest: 1, enableOfflineQueue: false };
    case 'queue':
      return { maxRetriesPerRequest: 1 };
    case 'blocking':
      return { maxRetriesPerRequest: null };
  }
}

/**
 * ioredis options for a role. With sentinels, a client follows a failover as soon as the sentinels
 * announce it, and a command refused by a master just turned replica (READONLY) reconnects, to the
 * new master, and is sent again.
 */
export function redisOptions(config: RedisConfig, role: RedisRole): RedisOptions {
  const password = config.password ? { password: config.password } : {};
  if (!config.sentinels) return { ...roleOptions(config, role), ...password };
  return {
    ...roleOptions(config, role),
    ...password,
    sentinels: config.sentinels.map(parseHostPort),
    name: config.name,
    ...(config.sentinelPassword ? { sentinelPassword: config.sentinelPassword } : {}),
    // Hear the sentinels' +switch-master and move at once: until the sentinels reconfigure the old
    // master (their next INFO of it, up to 10 s), it still takes writes that the new one never sees.
    failoverDetector: true,
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  };
}

/**
 * A client of a role; `localUrl` is the local default's Redis when the configuration names none.
 * `lazyConnect`: it connects when asked (`connect()`), not at once.
 */
export function createRedis(
  config: BridgeConfig,
  role: RedisRole,
  options: { localUrl?: string | undefined; lazyConnect?: boolean } = {},
): Redis {
  const built = {
    ...redisOptions(config.redis, role),
    ...(options.lazyConnect ? { lazyConnect: true } : {}),
  };
  if (config.redis.sentinels) return new Redis(built);
  return new Redis(config.redis.url ?? options.localUrl ?? '', built);
}

/** The connector the jobs layer gets (it builds no client itself). */
export function redisConnector(config: BridgeConfig, localUrl?: string): RedisConnector {
  return (role) => createRedis(config, role, { localUrl });
}

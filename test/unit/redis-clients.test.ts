/** The one place that builds ioredis clients (src/redis-clients.ts), and the Sentinel settings. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { parseHostPort, redisConfigured, redisOptions } from '../../src/redis-clients.ts';

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:26379', { host: '127.0.0.1', port: 26379 }],
    ['sentinel-1.internal:5000', { host: 'sentinel-1.internal', port: 5000 }],
    ['[::1]:26379', { host: '::1', port: 26379 }],
  ])('%s', (text, parsed) => {
    expect(parseHostPort(text)).toEqual(parsed);
  });
});

describe('redis.sentinels in the configuration', () => {
  it('is accepted with a master name, and names a Redis', () => {
    const config = loadConfig({
      env: { SCIM_BRIDGE_REDIS_SENTINELS: '["10.0.0.1:26379","[::1]:26380"]', SCIM_BRIDGE_REDIS_NAME: 'm1' },
    });
    expect(config.redis.sentinels).toEqual(['10.0.0.1:26379', '[::1]:26380']);
    expect(redisConfigured(config)).toBe(true);
    expect(redisConfigured(loadConfig({ env: {} }))).toBe(false);
  });

  it.each([
    ['no port', '["10.0.0.1"]', 'redis.sentinels'],
    ['a URL', '["redis://10.0.0.1:26379"]', 'redis.sentinels'],
    ['a space', '["10.0.0.1: 26379"]', 'redis.sentinels'],
    ['an empty list', '[]', 'redis.sentinels'],
    ['not a list', '"10.0.0.1:26379"', 'redis.sentinels'],
  ])('%s is refused, naming the setting', (_name, value, setting) => {
    expect(() => loadConfig({ env: { SCIM_BRIDGE_REDIS_SENTINELS: value } })).toThrow(ConfigError);
    try {
      loadConfig({ env: { SCIM_BRIDGE_REDIS_SENTINELS: value } });
    } catch (error) {
      expect((error as Error).message).toContain(setting);
    }
  });

  it('with redis.url as well is refused', () => {
    expect(() =>
      loadConfig({
        env: {
          SCIM_BRIDGE_REDIS_SENTINELS: '["10.0.0.1:26379"]',
          SCIM_BRIDGE_REDIS_URL: 'redis://10.0.0.2:6379',
        },
      }),
    ).toThrow(/redis.sentinels.*redis.url/s);
  });
});

describe('redisOptions', () => {
  const standalone = loadConfig({ env: { SCIM_BRIDGE_REDIS_URL: 'redis://10.0.0.2:6379' } }).redis;
  const sentinel = loadConfig({
    env: {
      SCIM_BRIDGE_REDIS_SENTINELS: '["10.0.0.1:26379"]',
      SCIM_BRIDGE_REDIS_NAME: 'm1',
      SCIM_BRIDGE_REDIS_SENTINEL_PASSWORD: 'sp',
      SCIM_BRIDGE_REDIS_PASSWORD: 'rp',
    },
  }).redis;

  it.each([
    ['server', { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 1000 }],
    ['events', { maxRetriesPerRequest: 1, enableOfflineQueue: false }],
    ['queue', { maxRetriesPerRequest: 1 }],
    // BullMQ refuses a worker connection that gives up on a command.
    ['blocking', { maxRetriesPerRequest: null }],
  ] as const)('%s', (role, expected) => {
    expect(redisOptions(standalone, role)).toEqual(expected);
  });

  it('with sentinels: the sentinels, the master name, both passwords, failover detection', () => {
    const options = redisOptions(sentinel, 'blocking');
    expect(options).toMatchObject({
      maxRetriesPerRequest: null,
      sentinels: [{ host: '10.0.0.1', port: 26379 }],
      name: 'm1',
      password: 'rp',
      sentinelPassword: 'sp',
      failoverDetector: true,
    });
    const reconnect = options.reconnectOnError;
    expect(reconnect?.(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(reconnect?.(new Error('ERR wrong number of arguments'))).toBe(false);
  });
});

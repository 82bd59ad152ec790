/** The `redis` section of the configuration schema (see ../schema.ts for the conventions). */
import { millis } from '../formats.ts';

export const redis = {
  type: 'object',
  description: 'Shared state of all bridge instances: idempotency keys, locks, queues.',
  default: {},
  additionalProperties: false,
  properties: {
    url: {
      type: 'string',
      format: 'redis-url',
      description:
        'Redis server URL. When absent (and no redis.sentinels), the local-development default starts a throwaway redis-server on a free port.',
      examples: ['redis://redis.internal:6379/0', 'rediss://redis.example.com:6380'],
    },
    sentinels: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'string',
        pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$',
        'x-expected': 'host:port, e.g. sentinel-1.internal:26379 ([::1]:26379 for IPv6)',
      },
      description:
        'Redis Sentinel (high availability): the sentinels to ask for the current master of redis.name; ' +
        'every client follows a failover on its own. Instead of redis.url, not with it. From the environment: a JSON array.',
      examples: [['sentinel-1.internal:26379', 'sentinel-2.internal:26379', 'sentinel-3.internal:26379']],
    },
    name: {
      type: 'string',
      minLength: 1,
      description:
        'With redis.sentinels: the master name the sentinels monitor (`sentinel monitor <name> ...`).',
      default: 'mymaster',
    },
    sentinelPassword: {
      type: 'string',
      minLength: 1,
      'x-secret': true,
      description: "With redis.sentinels: the sentinels' own password (their requirepass), if any.",
    },
    replicasToAcknowledge: {
      type: 'integer',
      minimum: 0,
      maximum: 16,
      description:
        "Replicas that must hold a write's journal intent (Redis WAIT, bounded by half of redis.commandTimeoutMs) before " +
        'the directory is written; fewer: 503 and nothing written. With Sentinel, 1 keeps the intent (and so the ' +
        "write's events and its Idempotency-Key's fate) through a failover. 0: no wait (Redis replicates asynchronously).",
      default: 0,
    },
    keyPrefix: {
      type: 'string',
      pattern: '^\\S+$',
      'x-expected': 'a non-empty prefix without spaces',
      description: 'Prefix for every key the bridge writes, so several deployments can share one Redis.',
      default: 'scim-bridge:',
    },
    commandTimeoutMs: {
      ...millis,
      description:
        "The server's own Redis commands (idempotency keys, the change journal, issued tokens, write notices) give up after this long, so a hung Redis turns writes that need it into a quick 503 with Retry-After instead of a wait until the request deadline. Reads do not need Redis.",
      default: 1_000,
    },
    password: {
      type: 'string',
      minLength: 1,
      'x-secret': true,
      description: 'Redis password (AUTH). Give it here or in the URL, not both.',
    },
  },
} as const;

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
        'Redis server URL. When absent, the local-development default starts a throwaway redis-server on a free port.',
      examples: ['redis://redis.internal:6379/0', 'rediss://redis.example.com:6380'],
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

/** The `redis` section of the configuration schema (see ../schema.ts for the conventions). */

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
    password: {
      type: 'string',
      minLength: 1,
      'x-secret': true,
      description: 'Redis password (AUTH). Give it here or in the URL, not both.',
    },
  },
} as const;

/** The `idempotency` section of the configuration schema (see ../schema.ts for the conventions). */

export const idempotency = {
  type: 'object',
  description: 'Idempotency-Key handling, shared by all instances through Redis.',
  default: {},
  additionalProperties: false,
  properties: {
    ttlSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 31_536_000,
      description: 'How long a stored response is replayed for a repeated Idempotency-Key.',
      default: 86_400,
    },
    lockTtlSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 86_400,
      description:
        'Lifetime of the in-flight lock that makes concurrent identical requests execute once. ' +
        'At least server.requestTimeoutMs, so a lock cannot expire while its request still runs.',
      default: 30,
    },
  },
} as const;

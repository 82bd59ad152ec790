/** The `admin` section of the configuration schema (see ../schema.ts for the conventions). */

export const admin = {
  type: 'object',
  description:
    'The admin console under /admin (docs/architecture.md §Admin console): sign-in with an admin-scoped ' +
    'token or SAML Web SSO, sessions shared by all instances through Redis, an audit log in Redis.',
  default: {},
  additionalProperties: false,
  properties: {
    enabled: {
      type: 'boolean',
      default: true,
      description: 'Serve the console under /admin. Off: every /admin path is a 404.',
    },
    sessionIdleSeconds: {
      type: 'integer',
      minimum: 60,
      maximum: 86_400,
      default: 1800,
      description: 'A console session unused for this long ends (token and SAML sign-ins alike).',
    },
    sessionMaxSeconds: {
      type: 'integer',
      minimum: 60,
      maximum: 604_800,
      default: 28_800,
      description:
        'A console session ends this long after sign-in however it is used (SAML sign-ins: at most auth.saml.sessionTtlSeconds).',
    },
    auditStreamLength: {
      type: 'integer',
      minimum: 100,
      maximum: 1_000_000,
      default: 10_000,
      description: 'Audit records kept in the Redis stream (the oldest are trimmed).',
    },
    activityStreamLength: {
      type: 'integer',
      minimum: 100,
      maximum: 1_000_000,
      default: 10_000,
      description:
        'SCIM writes kept for the overview (client, operation, resource, outcome; never bodies) in a Redis stream.',
    },
    recordedRequests: {
      type: 'integer',
      minimum: 0,
      maximum: 1000,
      default: 50,
      description:
        "SCIM write requests kept (method, path, JSON body without password or any writeOnly/returned-never attribute; bodies over 8000 characters (12,000 URL-encoded) left out) for the mapping preview's recorded requests, in a Redis stream. 0: none kept.",
    },
    signInAttempts: {
      type: 'integer',
      minimum: 1,
      maximum: 10_000,
      default: 10,
      description:
        'Token sign-in attempts allowed per client IP address in signInWindowSeconds (shared by all instances through Redis); more get a 429 page with Retry-After.',
    },
    signInWindowSeconds: {
      type: 'integer',
      minimum: 10,
      maximum: 86_400,
      default: 300,
      description: 'The window over which signInAttempts are counted.',
    },
  },
} as const;

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
  },
} as const;

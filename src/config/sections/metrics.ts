/** The `metrics` section of the configuration schema (see ../schema.ts for the conventions). */

export const metrics = {
  type: 'object',
  description:
    'Prometheus metrics at /metrics on the SCIM listener, outside the SCIM base path, protected by their own bearer token (not a SCIM client token: a scraper should not be able to provision).',
  default: {},
  additionalProperties: false,
  properties: {
    token: {
      type: 'string',
      minLength: 16,
      'x-secret': true,
      description:
        'Bearer token the scraper sends (Authorization: Bearer ...). Without it /metrics is not served (404).',
    },
  },
} as const;

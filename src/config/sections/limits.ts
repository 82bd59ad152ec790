/** The `limits` section of the configuration schema (see ../schema.ts for the conventions). */

export const limits = {
  type: 'object',
  description: 'Limits advertised in /ServiceProviderConfig and enforced on requests.',
  default: {},
  additionalProperties: false,
  properties: {
    defaultPageSize: {
      type: 'integer',
      minimum: 1,
      maximum: 100_000,
      description: 'Page size of a list/search request that gives no count.',
      default: 100,
    },
    maxPageSize: {
      type: 'integer',
      minimum: 1,
      maximum: 100_000,
      description: 'Largest page returned; larger count values are reduced to it. At least defaultPageSize.',
      default: 1000,
    },
    maxFilterLength: {
      type: 'integer',
      minimum: 16,
      maximum: 1_048_576,
      description: 'Longest accepted SCIM filter expression, in characters.',
      default: 4096,
    },
    bulkMaxOperations: {
      type: 'integer',
      minimum: 1,
      maximum: 100_000,
      description: 'Most operations accepted in one /Bulk request (maxOperations).',
      default: 1000,
    },
    bulkMaxPayloadBytes: {
      type: 'integer',
      minimum: 1024,
      maximum: 1_073_741_824,
      description: 'Largest /Bulk request body (maxPayloadSize). At most server.bodyLimitBytes.',
      default: 1_048_576,
    },
    rateLimitWindowSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 86_400,
      description:
        'Window of the rate limits below, in seconds (fixed windows, counted in Redis for all instances).',
      default: 1,
    },
    clientRequestsPerWindow: {
      type: 'integer',
      minimum: 0,
      maximum: 1_000_000_000,
      description:
        'Requests one client (token) may make per window over all SCIM endpoints; more get 429 with Retry-After. 0: no limit.',
      default: 0,
    },
    routeRequestsPerWindow: {
      type: 'integer',
      minimum: 0,
      maximum: 1_000_000_000,
      description:
        'Requests one client may make per window to one endpoint family and method (e.g. GET /Users); more get 429 with Retry-After. 0: no limit.',
      default: 0,
    },
    maxInFlightRequests: {
      type: 'integer',
      minimum: 0,
      maximum: 1_000_000,
      description:
        'Requests handled at once by one instance; beyond it new requests get 503 with Retry-After at once, and /ready reports it. 0: no bound.',
      default: 1024,
    },
    maxEventLoopLagMs: {
      type: 'integer',
      minimum: 0,
      maximum: 60_000,
      description:
        'Event-loop delay (worst in the last 0.5 s) beyond which new requests get 503 with Retry-After at once, and /ready reports it. 0: not watched (shared or throttled CPUs make the delay noisy: measure yours before setting it).',
      default: 0,
    },
    patchMaxOperations: {
      type: 'integer',
      minimum: 1,
      maximum: 100_000,
      description:
        'Most operations accepted in one PATCH request; more are refused with 400 tooMany (RFC 7644 §3.12). ' +
        'Advertised in /ServiceProviderConfig as patch.maxOperations.',
      default: 1000,
    },
    jsonMaxDepth: {
      type: 'integer',
      minimum: 8,
      maximum: 1000,
      description:
        'Deepest nesting of arrays and objects accepted in a JSON request body; deeper bodies are refused ' +
        'with 400 invalidSyntax before they are parsed. SCIM resources nest 4 levels at most.',
      default: 64,
    },
  },
} as const;

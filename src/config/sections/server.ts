/** The `server` section of the configuration schema (see ../schema.ts for the conventions). */
import { millis } from '../formats.ts';

export const server = {
  type: 'object',
  description: 'The HTTP listener serving the SCIM API.',
  default: {},
  additionalProperties: false,
  properties: {
    host: {
      type: 'string',
      minLength: 1,
      description: 'Address to listen on. Use 0.0.0.0 (or ::) to accept connections from other hosts.',
      default: '127.0.0.1',
      examples: ['0.0.0.0', '::'],
    },
    port: {
      type: 'integer',
      minimum: 0,
      maximum: 65535,
      description: 'TCP port to listen on; 0 lets the kernel choose a free port (tests).',
      default: 8080,
      'x-env-aliases': ['PORT'],
    },
    basePath: {
      type: 'string',
      pattern: '^(/[^/?#\\s]+)+$',
      'x-expected': "a path starting with '/' and without a trailing '/', e.g. /scim/v2",
      description: 'URL path under which the SCIM endpoints (/Users, /Groups, /Bulk, ...) are served.',
      default: '/scim/v2',
      examples: ['/scim/v2', '/scim'],
    },
    bodyLimitBytes: {
      type: 'integer',
      minimum: 1024,
      maximum: 1_073_741_824,
      description: 'Largest accepted request body, in bytes; larger bodies get 413.',
      default: 1_048_576,
    },
    publicBaseUrl: {
      type: 'string',
      format: 'http-url',
      description:
        'Absolute URL under which clients reach the SCIM base path, used in Location headers and meta.location. ' +
        'When absent it is derived from each request (Host, and X-Forwarded-* when trustProxy is on). ' +
        'A trailing slash is removed.',
      examples: ['https://scim.example.com/scim/v2'],
    },
    trustProxy: {
      type: 'array',
      items: { type: 'string', format: 'ip-range' },
      description:
        'Addresses (or CIDR ranges) of the reverse proxies in front of the bridge. X-Forwarded-Proto/-Host ' +
        '(for the derived base URL) and X-Forwarded-For (the client address in the access log) are honoured ' +
        'only on connections from these addresses; from any other peer they are ignored. Empty: no proxy ' +
        'is trusted. From the environment: a JSON array.',
      default: [],
      examples: [['10.0.0.0/8'], ['127.0.0.1', '::1']],
    },
    workers: {
      type: 'integer',
      minimum: 0,
      maximum: 256,
      description:
        'Worker processes (node:cluster) sharing the listening port on this host, so one host uses all its cores; ' +
        'the primary process restarts a worker that dies and forwards SIGTERM/SIGINT/SIGHUP to every worker. ' +
        '0 or 1: one process, no cluster. Everything the workers share is in Redis and the directory. ' +
        '/metrics answers with the sum over all workers.',
      default: 0,
      examples: [4],
    },
    requestTimeoutMs: {
      ...millis,
      description:
        "Each request's deadline: directory calls made for it are bounded by what is left of it and none starts after it; when it passes the client gets 503 with Retry-After. The idempotency lock (idempotency.lockTtlSeconds) must outlive it.",
      default: 30_000,
    },
    drainTimeoutMs: {
      ...millis,
      description:
        'On SIGTERM: /ready turns 503 and the listener stops accepting at once; requests in flight get this long to finish before their connections are closed.',
      default: 30_000,
    },
  },
} as const;

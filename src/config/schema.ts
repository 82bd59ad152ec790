/**
 * The bridge's configuration schema (JSON Schema draft-07, the dialect ajv and YAML editors support
 * best). It is at the same time
 *  - the validator: `load.ts` compiles it with ajv (`useDefaults`), and
 *  - the documentation: `reference.ts` renders docs/configuration.md from it.
 * So every setting carries a `description`, a `default` where there is one, and `examples` where
 * the form is not obvious.
 *
 * Custom annotation keywords (registered with ajv as metadata, they do not validate anything):
 *  - `x-secret: true`      the value is a credential: never logged, shown as `<redacted>` in errors;
 *                          in YAML it may also be written as `{ file: /path/to/secret }`.
 *  - `x-path: true`        a filesystem path; relative paths are resolved against the working directory.
 *  - `x-env-aliases: [..]` extra environment variable names for the setting, with lower precedence
 *                          than the derived `SCIM_BRIDGE_*` name.
 *  - `x-expected: '..'`    how the expected form is described in error messages and in the reference.
 *
 * Environment variable names are derived from the path (see `settings.ts`), never listed by hand.
 */

/** Custom string formats: the validator, and the words used in error messages and documentation. */
export interface FormatSpec {
  /** Noun phrase for the message "<value> is not <noun>". */
  readonly noun: string;
  /** The expected form, for error messages and the reference. */
  readonly expected: string;
  readonly validate: (value: string) => boolean;
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function validPort(port: string): boolean {
  return port === '' || (/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535);
}

export const formats: Readonly<Record<string, FormatSpec>> = {
  'ldap-url': {
    noun: 'an LDAP URL',
    expected: 'ldap://host[:port] or ldaps://host[:port]',
    validate: (value) => {
      // No DN, attributes or extensions (RFC 4516): the bridge takes its base DNs from the mappings.
      const m = /^(ldaps?):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d+))?\/?$/.exec(value);
      return m !== null && validPort(m[3] ?? '');
    },
  },
  'redis-url': {
    noun: 'a Redis URL',
    expected: 'redis://[[user]:password@]host[:port][/db] or rediss://… (TLS)',
    validate: (value) => {
      const url = parseUrl(value);
      return (
        url !== undefined &&
        (url.protocol === 'redis:' || url.protocol === 'rediss:') &&
        url.hostname !== '' &&
        /^(\/\d*)?$/.test(url.pathname) &&
        url.hash === ''
      );
    },
  },
  'http-url': {
    noun: 'an absolute http(s) URL',
    expected: 'http(s)://host[:port][/path], without query, fragment or credentials',
    validate: (value) => {
      const url = parseUrl(value);
      return (
        url !== undefined &&
        (url.protocol === 'http:' || url.protocol === 'https:') &&
        url.hostname !== '' &&
        url.search === '' &&
        url.hash === '' &&
        url.username === '' &&
        url.password === '' &&
        !/[?#]/.test(value)
      );
    },
  },
};

const millis = { type: 'integer', minimum: 1, maximum: 86_400_000 } as const;

export const configSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://scim-ldap-bridge.invalid/schemas/bridge-config.json',
  title: 'scim-ldap-bridge configuration',
  description:
    'Settings of the SCIM 2.0 to LDAP bridge. Layered: built-in defaults, then the YAML file, then SCIM_BRIDGE_* environment variables.',
  type: 'object',
  additionalProperties: false,
  properties: {
    server: {
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
          type: 'boolean',
          description:
            'Trust X-Forwarded-For/-Proto/-Host from a reverse proxy. Only enable behind a proxy that overwrites them.',
          default: false,
        },
        requestTimeoutMs: {
          ...millis,
          description: 'Time a request may take before it is aborted with 503.',
          default: 30_000,
        },
      },
    },
    ldap: {
      type: 'object',
      description: 'The directory the bridge writes to and reads from.',
      default: {},
      additionalProperties: false,
      properties: {
        url: {
          type: 'string',
          format: 'ldap-url',
          description:
            'Directory server URL. When absent, the local-development default starts a throwaway slapd on a free port.',
          examples: ['ldap://ldap.example.com:389', 'ldaps://dc1.example.com:636'],
        },
        bindDn: {
          type: 'string',
          minLength: 1,
          description:
            'Identity the bridge binds as (simple bind). Active Directory also accepts user@domain. Requires bindPassword.',
          examples: ['cn=scim-bridge,ou=services,dc=example,dc=com', 'scim-bridge@example.com'],
        },
        bindPassword: {
          type: 'string',
          minLength: 1,
          'x-secret': true,
          description: 'Password for bindDn.',
        },
        startTls: {
          type: 'boolean',
          description:
            'Upgrade an ldap:// connection with StartTLS (RFC 4511 §4.14). Not with ldaps:// URLs.',
          default: false,
        },
        tls: {
          type: 'object',
          description: 'TLS settings for ldaps:// and StartTLS.',
          default: {},
          additionalProperties: false,
          properties: {
            caFile: {
              type: 'string',
              minLength: 1,
              'x-path': true,
              description:
                'PEM file with the CA certificate(s) to trust for the directory, instead of the system store.',
              examples: ['/etc/ssl/certs/directory-ca.pem'],
            },
            rejectUnauthorized: {
              type: 'boolean',
              description: "Verify the directory's certificate. Only turn off for experiments.",
              default: true,
            },
            serverName: {
              type: 'string',
              minLength: 1,
              description:
                "Host name expected in the directory's certificate (SNI), when it differs from the URL's host.",
              examples: ['dc1.example.com'],
            },
          },
        },
        poolSize: {
          type: 'integer',
          minimum: 1,
          maximum: 256,
          description: 'Number of bound connections kept open to the directory.',
          default: 4,
        },
        cursorSessions: {
          type: 'integer',
          minimum: 0,
          maximum: 256,
          description:
            'Paged searches (RFC 2696 cookies) kept open per instance to serve RFC 9865 cursor pages; each holds one extra directory connection. 0: every cursor page re-runs the query to its position.',
          default: 8,
        },
        cursorIdleMs: {
          ...millis,
          description:
            'A cursor session not continued within this time is closed (its next page is then re-run to its position).',
          default: 60_000,
        },
        sortedListReuseMs: {
          type: 'integer',
          minimum: 0,
          maximum: 3_600_000,
          description:
            "A sorted result the directory keeps after a VLV page (its contextID) answers further pages of the same query for this long, without searching and sorting again. Which entries are listed, and in what order, is then as of that first page; each entry's attributes are read fresh. Writes through this instance discard every kept list. 0: every page sorts again.",
          default: 10_000,
        },
        connectTimeoutMs: {
          ...millis,
          description: 'Time allowed to open (and secure) a directory connection.',
          default: 5000,
        },
        operationTimeoutMs: {
          ...millis,
          description: 'Time allowed for one LDAP operation before it fails as unavailable.',
          default: 10_000,
        },
      },
    },
    redis: {
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
    },
    auth: {
      type: 'object',
      description: 'Bearer tokens accepted from SCIM clients.',
      default: {},
      additionalProperties: false,
      properties: {
        tokens: {
          type: 'array',
          description:
            'Accepted bearer tokens, stored as SHA-256 hashes so the configuration holds no usable secret. ' +
            'Compute a hash with: printf \'%s\' "$TOKEN" | sha256sum. From the environment: a JSON array.',
          default: [],
          examples: [
            [
              {
                name: 'entra-id',
                sha256: '960f29b61344b0d104d0923282b6f044d38cb4d943818658b9f61747117d117e',
              },
            ],
          ],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'sha256'],
            properties: {
              name: {
                type: 'string',
                minLength: 1,
                description: 'Name of the client; used as the principal in logs and events.',
              },
              sha256: {
                type: 'string',
                pattern: '^[0-9A-Fa-f]{64}$',
                'x-expected': 'exactly 64 hexadecimal characters (the SHA-256 of the token)',
                description: 'Hex SHA-256 of the token.',
              },
              patchResponse: {
                enum: [200, 204],
                'x-expected': '200 or 204',
                description:
                  "This client's answer to a successful PATCH, over the mapping's patchResponse (RFC 7644 §3.5.2 allows " +
                  "both): Microsoft's Entra ID validator expects 204 after a user PATCH, while Okta reads the 200 body. " +
                  'A PATCH with `attributes` is always answered 200 with the resource.',
              },
            },
          },
        },
        token: {
          type: 'string',
          minLength: 16,
          'x-secret': true,
          'x-env-aliases': ['SCIM_BRIDGE_TOKEN'],
          description:
            'One plaintext bearer token, accepted and hashed at load (it joins auth.tokens under the name "auth.token"). ' +
            'Convenient for a single client; prefer auth.tokens or a *_FILE secret in production.',
        },
      },
    },
    mappings: {
      type: 'object',
      description: 'Declarative SCIM <-> LDAP attribute mappings.',
      default: {},
      additionalProperties: false,
      properties: {
        dir: {
          type: 'string',
          minLength: 1,
          'x-path': true,
          description: 'Directory holding the mapping YAML files.',
          default: 'mappings/openldap',
          examples: ['mappings/activedirectory', '/etc/scim-bridge/mappings'],
        },
        watch: {
          type: 'boolean',
          description:
            'Reload the mappings when a file changes; an invalid change keeps the last good mapping.',
          default: true,
        },
      },
    },
    limits: {
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
          description:
            'Largest page returned; larger count values are reduced to it. At least defaultPageSize.',
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
      },
    },
    idempotency: {
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
    },
    events: {
      type: 'object',
      description:
        'Change events: every committed write is journaled in Redis before the directory write and delivered at least once to the configured services (webhooks) by a BullMQ worker pool.',
      default: {},
      additionalProperties: false,
      properties: {
        enabled: {
          type: 'boolean',
          description:
            'Record every write in the change journal and publish its events. Off: no journal, no events, no Redis write per request.',
          default: false,
        },
        workersInProcess: {
          type: 'boolean',
          description:
            'Run the delivery workers inside the server process. Turn off when separate `scim-ldap-bridge worker` processes deliver.',
          default: true,
        },
        recoveryGraceMs: {
          ...millis,
          description:
            'Age after which a journaled intent that was neither committed nor aborted is settled against the directory (published when the write happened, discarded otherwise). Longer than any directory write may take.',
          default: 60_000,
        },
        recoveryIntervalMs: {
          ...millis,
          description: 'How often each instance looks for such intents (and once at start-up).',
          default: 15_000,
        },
        maxAttempts: {
          type: 'integer',
          minimum: 1,
          maximum: 1000,
          description:
            'Delivery attempts per event and service before it is dead-lettered (5xx, timeouts, 408, 429). Other 4xx answers are dead-lettered at once.',
          default: 15,
        },
        backoffBaseMs: {
          ...millis,
          description: 'First retry delay; doubled per attempt, with full jitter, up to backoffMaxMs.',
          default: 1000,
        },
        backoffMaxMs: {
          ...millis,
          description: 'Longest retry delay (also the cap on a Retry-After the receiver asks for).',
          default: 600_000,
        },
        sagaCompensation: {
          type: 'string',
          enum: ['disable', 'delete'],
          description:
            'When a service marked `required` fails for good to take a new user or group: keep the entry disabled (`disable`) or delete it (`delete`). ' +
            'Until every required service has confirmed, a new entry is created disabled.',
          default: 'disable',
        },
        retentionSeconds: {
          type: 'integer',
          minimum: 60,
          maximum: 31_536_000,
          description:
            'How long delivered jobs are kept: the window in which a re-published event is recognised as a duplicate, and `jobs replay` finds it. Dead-lettered jobs are kept until retried or removed.',
          default: 604_800,
        },
        services: {
          type: 'array',
          description:
            'External services that receive events: HTTP webhooks, each with its own queue, concurrency and rate. ' +
            'Each entry: name (letters, digits, _ or -; names its queue), url, secret or secretFile (HMAC-SHA256 key, at least 16 characters), ' +
            'eventTypes (default ["*"]; `user.*`, `*.deleted`, `group.member_added`), timeoutMs (default 10000), concurrency (per worker process, default 4), ' +
            'ratePerSecond (over all workers, default 50), required (default false: a new user or group stays disabled until every required service confirmed its created event; see sagaCompensation). ' +
            'From the environment: a JSON array (or SCIM_BRIDGE_EVENTS_SERVICES_FILE naming a file holding it).',
          default: [],
          examples: [
            [
              {
                name: 'billing',
                url: 'https://billing.example.com/hooks/scim',
                secretFile: '/run/secrets/billing-webhook',
                eventTypes: ['user.*', 'group.member_added'],
              },
            ],
          ],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'url'],
            properties: {
              name: {
                type: 'string',
                pattern: '^[A-Za-z0-9_-]{1,64}$',
                'x-expected': 'letters, digits, _ or - (at most 64)',
                description: 'Name of the service: names its queue and appears in logs, /ready and the CLI.',
              },
              url: {
                type: 'string',
                format: 'http-url',
                description: 'URL the events are POSTed to (JSON body, one event per request).',
              },
              secret: {
                type: 'string',
                minLength: 16,
                'x-secret': true,
                description:
                  'HMAC-SHA256 key for the X-Scim-Bridge-Signature header. Give it here or in secretFile.',
              },
              secretFile: {
                type: 'string',
                minLength: 1,
                description:
                  'File holding the HMAC key (one trailing newline removed); relative to the working directory.',
              },
              eventTypes: {
                type: 'array',
                items: { type: 'string', pattern: '^[a-z*][a-z_.*]*$' },
                description:
                  'Event types delivered to this service; `*` matches any part (`user.*`, `*.deleted`, `*`).',
                default: ['*'],
              },
              timeoutMs: {
                ...millis,
                description: 'Time allowed for one delivery request.',
                default: 10_000,
              },
              concurrency: {
                type: 'integer',
                minimum: 1,
                maximum: 256,
                description: 'Deliveries in flight per worker process for this service.',
                default: 4,
              },
              ratePerSecond: {
                type: 'integer',
                minimum: 1,
                maximum: 100_000,
                description: 'Most deliveries per second to this service, over all worker processes.',
                default: 50,
              },
              required: {
                type: 'boolean',
                description:
                  'Reserved for sagas: creations wait for this service to confirm. Not implemented yet.',
                default: false,
              },
            },
          },
        },
      },
    },
    log: {
      type: 'object',
      description: 'Logging (pino, JSON lines on stdout).',
      default: {},
      additionalProperties: false,
      properties: {
        level: {
          type: 'string',
          enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
          description: 'Least severe level written.',
          default: 'info',
        },
        pretty: {
          type: 'boolean',
          description: 'Human-readable multi-line output instead of JSON lines (development only).',
          default: false,
        },
      },
    },
  },
} as const;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly basePath: string;
  readonly bodyLimitBytes: number;
  readonly publicBaseUrl?: string;
  readonly trustProxy: boolean;
  readonly requestTimeoutMs: number;
}

export interface LdapTlsConfig {
  /** Absolute after loading. */
  readonly caFile?: string;
  readonly rejectUnauthorized: boolean;
  readonly serverName?: string;
}

export interface LdapConfig {
  /** Absent: local development starts a throwaway slapd. */
  readonly url?: string;
  readonly bindDn?: string;
  readonly bindPassword?: string;
  readonly startTls: boolean;
  readonly tls: LdapTlsConfig;
  readonly poolSize: number;
  readonly cursorSessions: number;
  readonly cursorIdleMs: number;
  readonly sortedListReuseMs: number;
  readonly connectTimeoutMs: number;
  readonly operationTimeoutMs: number;
}

export interface RedisConfig {
  /** Absent: local development starts a throwaway redis-server. */
  readonly url?: string;
  readonly keyPrefix: string;
  readonly password?: string;
}

export interface TokenHash {
  readonly name: string;
  /** Lower-case hex after loading. */
  readonly sha256: string;
  /** This client's PATCH answer, over the mapping's. */
  readonly patchResponse?: 200 | 204;
}

export interface AuthConfig {
  readonly tokens: readonly TokenHash[];
  /** Consumed by loadConfig: hashed into `tokens` (name "auth.token") and removed. */
  readonly token?: string;
}

export interface MappingsConfig {
  /** Absolute after loading. */
  readonly dir: string;
  readonly watch: boolean;
}

export interface LimitsConfig {
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
  readonly maxFilterLength: number;
  readonly bulkMaxOperations: number;
  readonly bulkMaxPayloadBytes: number;
}

export interface IdempotencyConfig {
  readonly ttlSeconds: number;
  readonly lockTtlSeconds: number;
}

export interface EventServiceConfig {
  readonly name: string;
  readonly url: string;
  readonly secret?: string;
  readonly secretFile?: string;
  readonly eventTypes: readonly string[];
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly ratePerSecond: number;
  readonly required: boolean;
}

export interface EventsConfig {
  readonly enabled: boolean;
  readonly workersInProcess: boolean;
  readonly recoveryGraceMs: number;
  readonly recoveryIntervalMs: number;
  readonly sagaCompensation: 'disable' | 'delete';
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly retentionSeconds: number;
  readonly services: readonly EventServiceConfig[];
}

export interface LogConfig {
  readonly level: LogLevel;
  readonly pretty: boolean;
}

/** The validated, defaulted configuration. Hand-written; test/unit/config checks it against the schema. */
export interface BridgeConfig {
  readonly server: ServerConfig;
  readonly ldap: LdapConfig;
  readonly redis: RedisConfig;
  readonly auth: AuthConfig;
  readonly mappings: MappingsConfig;
  readonly limits: LimitsConfig;
  readonly idempotency: IdempotencyConfig;
  readonly events: EventsConfig;
  readonly log: LogConfig;
}

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
 * Each section is written in its own module under sections/; custom formats are in formats.ts.
 */
import { admin } from './sections/admin.ts';
import { auth } from './sections/auth.ts';
import { events } from './sections/events.ts';
import { feed } from './sections/feed.ts';
import { idempotency } from './sections/idempotency.ts';
import { ldap } from './sections/ldap.ts';
import { limits } from './sections/limits.ts';
import { log } from './sections/log.ts';
import { mappings } from './sections/mappings.ts';
import { metrics } from './sections/metrics.ts';
import { redis } from './sections/redis.ts';
import { server } from './sections/server.ts';

export const configSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://scim-ldap-bridge.invalid/schemas/bridge-config.json',
  title: 'scim-ldap-bridge configuration',
  description:
    'Settings of the SCIM 2.0 to LDAP bridge. Layered: built-in defaults, then the YAML file, then SCIM_BRIDGE_* environment variables.',
  type: 'object',
  additionalProperties: false,
  properties: {
    server,
    ldap,
    redis,
    auth,
    mappings,
    limits,
    idempotency,
    events,
    feed,
    log,
    metrics,
    admin,
  },
} as const;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly basePath: string;
  readonly bodyLimitBytes: number;
  readonly publicBaseUrl?: string;
  /** Proxy addresses or CIDR ranges whose X-Forwarded-* headers are believed. */
  readonly trustProxy: readonly string[];
  readonly requestTimeoutMs: number;
  readonly drainTimeoutMs: number;
  /** node:cluster worker processes; 0 or 1: none. */
  readonly workers: number;
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
  readonly sortedPagesPerConnection: number;
  readonly connectTimeoutMs: number;
  readonly operationTimeoutMs: number;
  /** Several servers instead of `url` (docs/architecture.md §Directory failover). */
  readonly urls?: readonly LdapServerConfig[];
  readonly probeInitialMs: number;
  readonly probeMaxMs: number;
}

export interface LdapServerConfig {
  readonly url: string;
  readonly role: 'readWrite' | 'readOnly';
}

export interface RedisConfig {
  /** Absent: local development starts a throwaway redis-server. */
  readonly url?: string;
  readonly keyPrefix: string;
  readonly password?: string;
  readonly commandTimeoutMs: number;
  /** host:port of each sentinel; with them, `url` is absent and `name` names the master. */
  readonly sentinels?: readonly string[];
  readonly name: string;
  readonly sentinelPassword?: string;
  readonly replicasToAcknowledge: number;
}

export interface TokenHash {
  readonly name: string;
  /** Lower-case hex after loading. */
  readonly sha256: string;
  /** This client's PATCH answer, over the mapping's. */
  readonly patchResponse?: 200 | 204;
  /** Default ['admin']. */
  readonly scopes: readonly string[];
  /** RFC 3339; refused after it. */
  readonly expiresAt?: string;
}

export interface ScopeRuleConfig {
  readonly attribute?: string;
  readonly nameId?: boolean;
  readonly equals: string;
  readonly scopes: readonly string[];
}

export interface TrustedIdpConfig {
  readonly name: string;
  readonly metadataUrl?: string;
  readonly metadataFile?: string;
  /** PEM text, or a file holding it. */
  readonly metadataSigningCertificate?: string;
  readonly entityId?: string;
  readonly scopeRules: readonly ScopeRuleConfig[];
}

export interface SamlConfig {
  /** Absent: SAML is off. */
  readonly entityId?: string;
  readonly tokenEndpointUrl?: string;
  readonly clockSkewSeconds: number;
  readonly maxAssertionLifetimeSeconds: number;
  readonly metadataRefreshSeconds: number;
  readonly metadataRetrySeconds: number;
  readonly metadataFetchTimeoutMs: number;
  readonly sessionTtlSeconds: number;
  /** Absolute after loading. */
  readonly spCertificateFile?: string;
  readonly spPrivateKeyFile?: string;
  readonly trustedIdps: readonly TrustedIdpConfig[];
}

export interface IssuedTokensConfig {
  readonly ttlSeconds: number;
  readonly cacheMs: number;
}

export interface AuthConfig {
  readonly tokens: readonly TokenHash[];
  /** Consumed by loadConfig: hashed into `tokens` (name "auth.token") and removed. */
  readonly token?: string;
  readonly saml: SamlConfig;
  readonly issuedTokens: IssuedTokensConfig;
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
  readonly rateLimitWindowSeconds: number;
  readonly clientRequestsPerWindow: number;
  readonly routeRequestsPerWindow: number;
  readonly maxInFlightRequests: number;
  readonly maxEventLoopLagMs: number;
  readonly patchMaxOperations: number;
  readonly jsonMaxDepth: number;
}

export interface IdempotencyConfig {
  readonly ttlSeconds: number;
  readonly lockTtlSeconds: number;
}

export interface EventServiceConfig {
  readonly kind: 'webhook' | 'scim';
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

export interface FeedConfig {
  readonly enabled: boolean;
  readonly source: 'auto' | 'accesslog' | 'retro-changelog' | 'ad';
  readonly logBase: string;
  readonly pollIntervalMs: number;
  readonly batchSize: number;
  readonly settleWindowMs: number;
  readonly leaseTtlMs: number;
}

export interface LogConfig {
  readonly level: LogLevel;
}

export interface MetricsConfig {
  readonly token?: string;
}

/** The validated, defaulted configuration. Hand-written; test/unit/config checks it against the schema. */
export interface AdminConfig {
  readonly enabled: boolean;
  readonly sessionIdleSeconds: number;
  readonly sessionMaxSeconds: number;
  readonly auditStreamLength: number;
  readonly activityStreamLength: number;
  readonly recordedRequests: number;
  readonly signInAttempts: number;
  readonly signInWindowSeconds: number;
}

export interface BridgeConfig {
  readonly server: ServerConfig;
  readonly ldap: LdapConfig;
  readonly redis: RedisConfig;
  readonly auth: AuthConfig;
  readonly mappings: MappingsConfig;
  readonly limits: LimitsConfig;
  readonly idempotency: IdempotencyConfig;
  readonly events: EventsConfig;
  readonly feed: FeedConfig;
  readonly log: LogConfig;
  readonly metrics: MetricsConfig;
  readonly admin: AdminConfig;
}

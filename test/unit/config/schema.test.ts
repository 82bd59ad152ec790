import { describe, expect, it } from 'vitest';
import { formats } from '../../../src/config/formats.ts';
import { defaultConfig } from '../../../src/config/load.ts';
import type { BridgeConfig } from '../../../src/config/schema.ts';
import { configSchema } from '../../../src/config/schema.ts';
import {
  envNameFor,
  FILE_SUFFIX,
  knownEnvVars,
  type SchemaNode,
  screamingSnake,
  secretPaths,
  settings,
} from '../../../src/config/settings.ts';

/** Every optional property made required, recursively: a sample of this type names every interface key. */
type Full<T> = T extends readonly (infer U)[]
  ? readonly Full<U>[]
  : T extends object
    ? { [K in keyof T]-?: Full<T[K]> }
    : T;

// tsc checks this literal against the interface in both directions: a missing key and an extra key are
// both compile errors. The runtime tests below compare the same literal with the schema.
const everyKey: Full<BridgeConfig> = {
  server: {
    host: '0.0.0.0',
    port: 8443,
    basePath: '/scim',
    bodyLimitBytes: 2048,
    publicBaseUrl: 'https://scim.example.com/scim',
    trustProxy: ['10.0.0.0/8'],
    requestTimeoutMs: 1000,
    drainTimeoutMs: 2000,
    workers: 2,
  },
  ldap: {
    url: 'ldaps://ldap.example.com',
    bindDn: 'cn=admin,dc=example,dc=com',
    bindPassword: 'secret-password',
    startTls: false,
    tls: { caFile: '/etc/ssl/ca.pem', rejectUnauthorized: true, serverName: 'ldap.example.com' },
    poolSize: 2,
    cursorSessions: 3,
    cursorIdleMs: 5000,
    sortedListReuseMs: 0,
    sortedPagesPerConnection: 3,
    connectTimeoutMs: 1000,
    operationTimeoutMs: 1000,
    urls: [{ url: 'ldap://ldap2.example.com', role: 'readOnly' }],
    probeInitialMs: 100,
    probeMaxMs: 2000,
  },
  redis: {
    url: 'redis://127.0.0.1:6379/0',
    keyPrefix: 'x:',
    password: 'pw',
    commandTimeoutMs: 1000,
    sentinels: ['127.0.0.1:26379'],
    name: 'mymaster',
    sentinelPassword: 'spw',
    replicasToAcknowledge: 1,
  },
  auth: {
    tokens: [
      {
        name: 'a',
        sha256: 'a'.repeat(64),
        patchResponse: 204,
        scopes: ['users:read'],
        expiresAt: '2027-01-31T00:00:00Z',
      },
    ],
    token: 'a-token-of-sixteen-chars',
    saml: {
      entityId: 'https://bridge.example.com/saml',
      tokenEndpointUrl: 'https://bridge.example.com/oauth/token',
      clockSkewSeconds: 30,
      maxAssertionLifetimeSeconds: 600,
      metadataRefreshSeconds: 600,
      metadataRetrySeconds: 30,
      metadataFetchTimeoutMs: 1000,
      sessionTtlSeconds: 600,
      spCertificateFile: '/etc/bridge/sp.crt',
      spPrivateKeyFile: '/etc/bridge/sp.key',
      trustedIdps: [
        {
          name: 'corp',
          metadataUrl: 'https://idp.example.com/metadata',
          metadataFile: '/etc/bridge/idp.xml',
          metadataSigningCertificate: '/etc/bridge/idp-md.crt',
          entityId: 'https://idp.example.com',
          scopeRules: [{ attribute: 'groups', nameId: false, equals: 'x', scopes: ['users:read'] }],
        },
      ],
    },
    issuedTokens: { ttlSeconds: 60, cacheMs: 0 },
  },
  mappings: { dir: 'mappings/ad', watch: false },
  limits: {
    defaultPageSize: 10,
    maxPageSize: 20,
    maxFilterLength: 100,
    bulkMaxOperations: 5,
    bulkMaxPayloadBytes: 2048,
    rateLimitWindowSeconds: 60,
    clientRequestsPerWindow: 600,
    routeRequestsPerWindow: 100,
    maxInFlightRequests: 64,
    maxEventLoopLagMs: 500,
    patchMaxOperations: 50,
    jsonMaxDepth: 16,
  },
  idempotency: { ttlSeconds: 60, lockTtlSeconds: 5 },
  events: {
    enabled: true,
    workersInProcess: false,
    recoveryGraceMs: 1000,
    recoveryIntervalMs: 1000,
    sagaCompensation: 'delete',
    maxAttempts: 3,
    backoffBaseMs: 10,
    backoffMaxMs: 100,
    retentionSeconds: 60,
    services: [
      {
        kind: 'webhook',
        name: 'billing',
        url: 'https://billing.example.com/hooks',
        secret: 'a-secret-of-16-chars',
        secretFile: '/run/secrets/billing',
        eventTypes: ['user.*'],
        timeoutMs: 1000,
        concurrency: 1,
        ratePerSecond: 1,
        required: false,
      },
    ],
  },
  feed: {
    enabled: true,
    source: 'accesslog',
    logBase: 'cn=accesslog',
    pollIntervalMs: 100,
    batchSize: 50,
    settleWindowMs: 500,
    leaseTtlMs: 5000,
  },

  log: { level: 'debug' },
  metrics: { token: 'metrics-token-0123456789' },
  admin: {
    enabled: true,
    sessionIdleSeconds: 1800,
    sessionMaxSeconds: 28_800,
    auditStreamLength: 10_000,
    activityStreamLength: 10_000,
    recordedRequests: 50,
    signInAttempts: 10,
    signInWindowSeconds: 300,
  },
};

/** Dotted paths of the leaves of a data object (arrays are leaves, like in the schema). */
function dataLeaves(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => dataLeaves(v, prefix ? `${prefix}.${k}` : k));
}

function schemaNodes(node: SchemaNode, prefix = ''): [string, SchemaNode][] {
  return Object.entries(node.properties ?? {}).flatMap(([k, child]): [string, SchemaNode][] => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [[p, child], ...schemaNodes(child, p)];
  });
}

describe('schema and BridgeConfig agree', () => {
  it('a fully defaulted config has exactly the schema settings that carry a default', () => {
    const defaulted = defaultConfig('/srv');
    const withDefault = settings.filter((s) => s.schema.default !== undefined).map((s) => s.key);
    expect(dataLeaves(defaulted).sort()).toEqual([...withDefault].sort());
    expect(defaulted.server.port).toBe(8080);
    expect(defaulted.mappings.dir).toBe('/srv/mappings/openldap');
    expect(Object.isFrozen(defaulted.server)).toBe(true);
  });

  it('the every-key sample (checked against the interface by tsc) has exactly the schema leaves', () => {
    expect(dataLeaves(everyKey).sort()).toEqual(settings.map((s) => s.key).sort());
  });

  it('every schema section is an object with defaults so nested defaults always apply', () => {
    for (const [p, node] of schemaNodes(configSchema as unknown as SchemaNode)) {
      if (node.type === 'object' && node.properties && !p.startsWith('auth.tokens')) {
        expect(node.default, p).toEqual({});
      }
    }
  });
});

describe('schema as documentation', () => {
  it.each(settings.map((s) => [s.key, s] as const))(
    '%s has a description and a default or is optional',
    (_, s) => {
      expect(s.schema.description?.length ?? 0).toBeGreaterThan(10);
      expect(s.schema.type).toBeDefined();
    },
  );

  it('settings with a format, pattern or path also show examples or an x-expected form', () => {
    for (const s of settings) {
      if (s.schema.format || s.schema['x-path'])
        expect(s.schema.examples ?? s.schema.default, s.key).toBeDefined();
      if (s.schema.pattern) expect(s.schema['x-expected'], s.key).toBeDefined();
      if (s.schema.format) expect(formats[s.schema.format], s.key).toBeDefined();
    }
  });

  it('secrets are exactly the credential settings and have no default', () => {
    expect([...secretPaths].sort()).toEqual([
      'auth.token',
      'ldap.bindPassword',
      'metrics.token',
      'redis.password',
      'redis.sentinelPassword',
    ]);
    for (const s of settings.filter((x) => x.secret)) expect(s.schema.default).toBeUndefined();
  });
});

describe('environment variable names', () => {
  it.each([
    ['bodyLimitBytes', 'BODY_LIMIT_BYTES'],
    ['bindDn', 'BIND_DN'],
    ['caFile', 'CA_FILE'],
    ['sha256', 'SHA256'],
    ['url', 'URL'],
  ])('screamingSnake(%s) = %s', (input, output) => {
    expect(screamingSnake(input)).toBe(output);
  });

  it('are derived from the path', () => {
    expect(envNameFor(['ldap', 'bindDn'])).toBe('SCIM_BRIDGE_LDAP_BIND_DN');
    expect(envNameFor(['server', 'bodyLimitBytes'])).toBe('SCIM_BRIDGE_SERVER_BODY_LIMIT_BYTES');
    expect(settings.find((s) => s.key === 'ldap.tls.caFile')?.env).toBe('SCIM_BRIDGE_LDAP_TLS_CA_FILE');
    expect(settings.find((s) => s.key === 'auth.token')?.aliases).toEqual(['SCIM_BRIDGE_TOKEN']);
    expect(settings.find((s) => s.key === 'server.port')?.aliases).toEqual(['PORT']);
  });

  it('are unique, and no name is another one plus _FILE, nor SCIM_BRIDGE_CONFIG', () => {
    const names = settings.flatMap((s) => [s.env, ...s.aliases]);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) {
      expect(names).not.toContain(n + FILE_SUFFIX);
      expect(n).not.toBe('SCIM_BRIDGE_CONFIG');
    }
    // The known set holds each name, its _FILE variant (for SCIM_BRIDGE_ names), and SCIM_BRIDGE_CONFIG.
    const known = knownEnvVars();
    expect(known.has('SCIM_BRIDGE_TOKEN_FILE')).toBe(true);
    expect(known.has('PORT_FILE')).toBe(false);
    expect(known.has('SCIM_BRIDGE_CONFIG')).toBe(true);
    expect(known.size).toBe(1 + names.length + names.filter((n) => n.startsWith('SCIM_BRIDGE_')).length);
  });
});

describe('custom formats', () => {
  const cases: [string, string, boolean][] = [
    ['ldap-url', 'ldap://ldap.example.com', true],
    ['ldap-url', 'ldaps://ldap.example.com:636', true],
    ['ldap-url', 'ldap://127.0.0.1:389/', true],
    ['ldap-url', 'ldap://[::1]:389', true],
    ['ldap-url', 'ldpa://x', false],
    ['ldap-url', 'ldapi://%2fvar%2frun%2fslapd', false],
    ['ldap-url', 'ldap://host:0', false],
    ['ldap-url', 'ldap://host:65536', false],
    ['ldap-url', 'ldap://host/dc=example,dc=com', false],
    ['ldap-url', 'ldap://', false],
    ['ldap-url', 'ldap.example.com', false],
    ['redis-url', 'redis://127.0.0.1:6379', true],
    ['redis-url', 'rediss://:pw@redis.example.com:6380/2', true],
    ['redis-url', 'redis://h/x', false],
    ['redis-url', 'http://h', false],
    ['redis-url', 'redis://', false],
    ['http-url', 'https://scim.example.com/scim/v2', true],
    ['http-url', 'http://localhost:8080', true],
    ['http-url', 'https://u:p@h/', false],
    ['http-url', 'https://h/x?y=1', false],
    ['http-url', 'https://h/x#f', false],
    ['http-url', '/scim/v2', false],
    ['http-url', 'ftp://h', false],
  ];
  it.each(cases)('%s %s -> %s', (format, value, valid) => {
    expect(formats[format]!.validate(value)).toBe(valid);
  });
});

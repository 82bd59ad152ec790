/**
 * Composition root: loads the configuration, starts the local default services when none are
 * configured, wires the layers, serves HTTP, and shuts everything down on SIGINT/SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pino, { type DestinationStream, type Logger } from 'pino';
import { sha256Hex, TokenVerifier } from './auth/tokens.ts';
import { type BridgeConfig, ConfigError, loadConfig, redactConfig, secretPaths } from './config/index.ts';
import { createApp } from './http/app.ts';
import { RedisIdempotencyStore } from './idempotency/redis-store.ts';
import { type EventsRuntime, JobsAdmin, resolveSecrets, startEvents, startWorkers } from './jobs/index.ts';
import { createLdapDirectory } from './ldap/index.ts';
import { type LocalServices, MissingBinariesError, startLocalServices } from './localdev/stack.ts';
import { STANDARD_SCHEMAS } from './mapping/catalog.ts';
import type { MappingSet } from './mapping/compiled.ts';
import { entryId } from './mapping/convert.ts';
import { formatProblem, MappingError, type MappingProblem } from './mapping/problems.ts';
import { MappingStore } from './mapping/reload.ts';
import { subschemaVerifier } from './mapping/subschema.ts';
import type { Directory } from './ports/directory.ts';
import { checkReadiness } from './services/readiness.ts';
import { ResourceService } from './services/resources.ts';

/**
 * Paths pino must never print: credentials in headers and bodies, and every setting the config
 * schema marks secret (so a new secret setting cannot be forgotten here).
 */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'password',
  '*.password',
  'bindPassword',
  '*.bindPassword',
  'token',
  '*.token',
  ...secretPaths.map((path) => `config.${path}`),
];

/** The service's logger: JSON lines, secrets redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACTED_LOG_PATHS, censor: '<redacted>' },
    base: { service: 'scim-ldap-bridge' },
  };
  return destination ? pino(options, destination) : pino(options);
}

export interface RunningBridge {
  url: string;
  baseUrl: string;
  server: Server;
  directory: Directory;
  mappings: () => MappingSet;
  local: LocalServices | undefined;
  /** The events subsystem, when events.enabled. */
  events?: EventsRuntime;
  /** Plain token generated for the local default (only when no token was configured). */
  generatedToken?: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  config: BridgeConfig;
  logger?: Logger;
  /** Seed for a throwaway slapd (default: the sample directory). */
  seedLdif?: string[];
  /** Start throwaway services in containers when a container runtime answers (tests); default never. */
  containers?: 'auto' | 'never';
}

/**
 * The directory the configuration names (ldap.*), or the local default's throwaway slapd. Also
 * used by `scim-ldap-bridge validate --directory`.
 */
export function directoryFromConfig(
  config: BridgeConfig,
  local: LocalServices | undefined,
  logger: Logger,
): Directory {
  const ldapUrl = config.ldap.url ?? local?.slapd?.url ?? '';
  return createLdapDirectory(
    {
      url: ldapUrl,
      ...(config.ldap.url
        ? {
            ...(config.ldap.bindDn ? { bindDn: config.ldap.bindDn } : {}),
            ...(config.ldap.bindPassword ? { bindPassword: config.ldap.bindPassword } : {}),
          }
        : { bindDn: local?.slapd?.serviceDn ?? '', bindPassword: local?.slapd?.servicePassword ?? '' }),
      startTls: config.ldap.startTls,
      tls: {
        rejectUnauthorized: config.ldap.tls.rejectUnauthorized,
        ...(config.ldap.tls.caFile ? { ca: readFileSync(config.ldap.tls.caFile) } : {}),
        ...(config.ldap.tls.serverName ? { serverName: config.ldap.tls.serverName } : {}),
      },
      poolSize: config.ldap.poolSize,
      cursorSessions: config.ldap.cursorSessions,
      cursorIdleMs: config.ldap.cursorIdleMs,
      sortedListReuseMs: config.ldap.sortedListReuseMs,
      connectTimeoutMs: config.ldap.connectTimeoutMs,
      operationTimeoutMs: config.ldap.operationTimeoutMs,
    },
    logger.child({ component: 'ldap' }),
  );
}

export async function startBridge(options: StartOptions): Promise<RunningBridge> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.log.level);

  // Hot reload: an invalid change keeps the last good mapping; /ready lists the problems.
  // The files are validated now, before any service starts; the check against the directory's
  // schema needs the directory, so it is attached below, before the first reload can happen.
  let checkAgainstDirectory: ((set: MappingSet) => Promise<MappingProblem[]>) | undefined;
  const mappingStore = new MappingStore(config.mappings.dir, {
    catalog: STANDARD_SCHEMAS,
    onReload: (outcome, reason) =>
      outcome.ok
        ? logger.info({ reason, dir: config.mappings.dir }, 'mappings reloaded')
        : logger.error(
            { reason, dir: config.mappings.dir, problems: outcome.problems.map(formatProblem) },
            'mapping reload failed; the last good mapping stays in service',
          ),
    verify: async (set) => (checkAgainstDirectory ? checkAgainstDirectory(set) : []),
  });
  const mappingSet = mappingStore.mappings;

  const needLdap = !config.ldap.url;
  const needRedis = !config.redis.url;
  const local =
    needLdap || needRedis
      ? await startLocalServices({
          ldap: needLdap,
          redis: needRedis,
          ...(options.seedLdif ? { seedLdif: options.seedLdif } : {}),
        })
      : undefined;
  if (local) {
    logger.info(
      { slapd: local.slapd?.url, redis: local.redis?.url },
      'local default: started throwaway services (set ldap.url / redis.url to use your own)',
    );
  }

  const directory = directoryFromConfig(config, local, logger);

  // Every LDAP attribute and object class the mappings name must be in the directory's schema
  // (RFC 4512 §4.2): at start-up and before each reloaded set goes into service. A directory that
  // cannot be asked (down, or hiding its schema) skips the check with a warning.
  checkAgainstDirectory = subschemaVerifier(directory, (reason) =>
    logger.warn(
      { reason, dir: config.mappings.dir },
      'mappings not checked against the directory schema (skipped)',
    ),
  );
  try {
    await mappingStore.verify();
  } catch (error) {
    await directory.close().catch(() => undefined);
    await local?.stop();
    throw error;
  }
  if (config.mappings.watch) mappingStore.watch();

  const redisUrl = config.redis.url ?? local?.redis?.url ?? '';
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    ...(config.redis.password ? { password: config.redis.password } : {}),
  });
  redis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection problem'));
  await redis
    .connect()
    .catch((error: Error) => logger.warn({ err: error.message }, 'redis not reachable at start-up'));

  let generatedToken: string | undefined;
  const tokenEntries = [...config.auth.tokens];
  if (tokenEntries.length === 0) {
    if (config.ldap.url) {
      throw new ConfigError([
        {
          setting: 'auth.tokens',
          source: 'default',
          text: 'no bearer token is configured, so no client could authenticate; expected auth.tokens entries {name, sha256} or SCIM_BRIDGE_TOKEN',
        },
      ]);
    }
    generatedToken = randomBytes(24).toString('base64url');
    tokenEntries.push({ name: 'local-default', sha256: sha256Hex(generatedToken) });
  }

  // Events: every write journaled before the directory write, delivered at least once.
  const events: EventsRuntime | undefined = config.events.enabled
    ? startEvents({
        events: config.events,
        keyPrefix: config.redis.keyPrefix,
        redisUrl,
        ...(config.redis.password ? { redisPassword: config.redis.password } : {}),
        redis,
        workers: config.events.workersInProcess,
        log: logger.child({ component: 'events' }),
        // Called by a timer after start-up, once `resources` (below) exists.
        settleSaga: (outcome) => resources.settleProvisioning(outcome, config.events.sagaCompensation),
        probe: async (resourceType, dn) => {
          const rt = mappingSet().resourceTypes.find((r) => r.name === resourceType);
          if (!rt) return undefined;
          const { idAttribute, versionAttribute, binaryAttributes } = rt.directory;
          const entry = await directory.read(dn, [idAttribute, versionAttribute], binaryAttributes);
          if (!entry) return undefined;
          const version = entry.attributes[versionAttribute.toLowerCase()]?.[0];
          return {
            id: entryId(rt, entry) ?? '',
            ...(version !== undefined ? { version: String(version) } : {}),
          };
        },
      })
    : undefined;

  const resources = new ResourceService({
    directory,
    ...(events ? { journal: events.journal } : {}),
    mappings: mappingSet,
    limits: {
      defaultPageSize: config.limits.defaultPageSize,
      maxPageSize: config.limits.maxPageSize,
      maxFilterLength: config.limits.maxFilterLength,
      maxMembersReturned: 1_000_000,
    },
  });

  const app = createApp({
    logger,
    basePath: config.server.basePath,
    ...(config.server.publicBaseUrl ? { publicBaseUrl: config.server.publicBaseUrl } : {}),
    bodyLimitBytes: config.server.bodyLimitBytes,
    tokens: new TokenVerifier(tokenEntries),
    resources,
    mappings: mappingSet,
    discovery: {
      maxPageSize: config.limits.maxPageSize,
      defaultPageSize: config.limits.defaultPageSize,
      bulk: {
        supported: true,
        maxOperations: config.limits.bulkMaxOperations,
        maxPayloadSize: config.limits.bulkMaxPayloadBytes,
      },
    },
    idempotency: {
      store: new RedisIdempotencyStore(redis, {
        keyPrefix: config.redis.keyPrefix,
        ttlSeconds: config.idempotency.ttlSeconds,
        lockTtlSeconds: config.idempotency.lockTtlSeconds,
      }),
      lockTtlSeconds: config.idempotency.lockTtlSeconds,
      onStoreError: (error, ctx) =>
        logger.warn(
          { err: (error as Error).message, requestId: ctx.state.requestId },
          'idempotency store failed after the request executed; a retry with the same key may execute again',
        ),
    },
    readiness: async () => {
      const eventWarnings = events ? await events.warnings() : [];
      return checkReadiness(
        [
          { name: 'directory', check: () => directory.ping() },
          {
            name: 'redis',
            check: async () => {
              if ((await redis.ping()) !== 'PONG') throw new Error('unexpected PING reply');
            },
          },
        ],
        2_000,
        () => [...mappingStore.warnings(), ...eventWarnings],
      );
    },
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.server.port, config.server.host, () => resolve(s));
    s.once('error', reject);
  });
  server.requestTimeout = config.server.requestTimeoutMs;
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : config.server.port;
  const url = `http://${config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host}:${port}`;
  const baseUrl = `${url}${config.server.basePath}`;

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    mappingStore.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await events?.stop();
    await Promise.allSettled([directory.close(), redis.quit().catch(() => redis.disconnect())]);
    await local?.stop();
  };

  logger.info(
    {
      url: baseUrl,
      resourceTypes: mappingSet().resourceTypes.map((r) => r.endpoint),
      config: redactConfig(config),
    },
    'listening',
  );
  return {
    url,
    baseUrl,
    server,
    directory,
    mappings: mappingSet,
    local,
    ...(events ? { events } : {}),
    ...(generatedToken ? { generatedToken } : {}),
    stop,
  };
}

/** The configured Redis URL, required by the commands that only talk to the queues. */
function queueRedisUrl(config: BridgeConfig): string {
  if (!config.redis.url) {
    throw new ConfigError([
      {
        setting: 'redis.url',
        source: 'default',
        text: 'the jobs and worker commands need the shared Redis; expected redis.url or SCIM_BRIDGE_REDIS_URL',
      },
    ]);
  }
  return config.redis.url;
}

/** For `scim-ldap-bridge jobs ...`: the queues of the configured services. */
export async function openJobsAdmin(
  config: BridgeConfig,
): Promise<{ admin: JobsAdmin; close(): Promise<void> }> {
  const redis = new Redis(queueRedisUrl(config), {
    maxRetriesPerRequest: 1,
    ...(config.redis.password ? { password: config.redis.password } : {}),
  });
  const admin = new JobsAdmin(redis, config.redis.keyPrefix, config.events.services);
  return {
    admin,
    async close() {
      await admin.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** `scim-ldap-bridge worker`: delivery workers only (no HTTP, no directory); stops on SIGINT/SIGTERM. */
export async function runWorker(config: BridgeConfig, logger?: Logger): Promise<{ stop(): Promise<void> }> {
  const log = logger ?? createLogger(config.log.level);
  const pool = startWorkers({
    redisUrl: queueRedisUrl(config),
    ...(config.redis.password ? { redisPassword: config.redis.password } : {}),
    keyPrefix: config.redis.keyPrefix,
    events: config.events,
    secrets: resolveSecrets(config.events.services),
    log: log.child({ component: 'events' }),
  });
  log.info({ services: config.events.services.map((s) => s.name) }, 'delivery workers started');
  return { stop: () => pool.close() };
}

/** Runs the service as a process: prints where it listens, stops on SIGINT/SIGTERM. */
export async function runMain(): Promise<void> {
  let config: BridgeConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`scim-ldap-bridge: invalid configuration\n${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  let bridge: RunningBridge;
  try {
    bridge = await startBridge({ config });
  } catch (error) {
    if (
      error instanceof MissingBinariesError ||
      error instanceof MappingError ||
      error instanceof ConfigError
    ) {
      process.stderr.write(`scim-ldap-bridge: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const lines = [
    '',
    `SCIM base URL: ${bridge.baseUrl}`,
    bridge.generatedToken
      ? `Bearer token:  ${bridge.generatedToken}   (generated for this run; set SCIM_BRIDGE_TOKEN to choose one)`
      : 'Bearer token:  as configured (auth.tokens / SCIM_BRIDGE_TOKEN)',
    bridge.local?.slapd
      ? `Directory:     ${bridge.local.slapd.url} (throwaway slapd, sample data, base ${bridge.local.slapd.suffix})`
      : '',
    bridge.local?.redis ? `Redis:         ${bridge.local.redis.url} (throwaway)` : '',
    `Try:           curl -H "Authorization: Bearer ${bridge.generatedToken ?? '<token>'}" ${bridge.baseUrl}/Users`,
    'Stop with Ctrl-C.',
    '',
  ].filter((l) => l !== '');
  process.stdout.write(`${lines.join('\n')}\n`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping\n`);
    bridge
      .stop()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runMain().catch((error: unknown) => {
    process.stderr.write(
      `scim-ldap-bridge: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}

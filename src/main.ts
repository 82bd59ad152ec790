import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import pino, { type DestinationStream, type Logger } from 'pino';
import {
  type BridgeConfig,
  ConfigError,
  configuredLdapServers,
  loadConfig,
  redactConfig,
  secretPaths,
} from './config/index.ts';
import type { FeedRuntime } from './feed/index.ts';
import { createApp } from './http/app.ts';
import { LoadGauge } from './http/middleware/shedding.ts';
import { type EventsRuntime, JobsAdmin, resolveSecrets, startWorkers } from './jobs/index.ts';
import { createLdapDirectory, type MeasuredDirectory } from './ldap/index.ts';
import { type LocalServices, MissingBinariesError } from './localdev/stack.ts';
import type { MappingSet } from './mapping/compiled.ts';
import { MappingError } from './mapping/problems.ts';
import {
  observeLdapOperation,
  type QueueUsage,
  watchDirectoryServers,
  watchFeed,
  watchPool,
  watchQueues,
} from './observability/metrics.ts';
import { shareMetricsWithPrimary } from './observability/workers.ts';
import type { Directory } from './ports/directory.ts';
import { createRedis, redisConfigured, redisConnector } from './redis-clients.ts';
import { startAdmin, withLocalIdp } from './start-admin.ts';
import { type AuthRuntime, startAuth } from './start-auth.ts';
import { journalForFeed, startFeedFor, startFeedInWorker } from './start-feed.ts';
import {
  appOptions,
  checkMappingsAgainst,
  connectRedis,
  listen,
  listenForWrites,
  openMappings,
  resourceServiceFor,
  startEventsFor,
  startLocalDefaults,
  stopOnce,
  writeNoticesFor,
} from './start-steps.ts';
import { runPrimary, runsWorkers } from './start-workers.ts';

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
  // The token endpoint's form and answer (RFC 7522 assertion, RFC 6749 access token).
  'assertion',
  '*.assertion',
  'access_token',
  '*.access_token',
  ...secretPaths.map((path) => `config.${path}`),
];

/** The service's logger: JSON lines, secrets redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACTED_LOG_PATHS, censor: '<redacted>' },
    // A server.workers cluster's worker says which it is (its pid) on every line.
    base: { service: 'scim-ldap-bridge', ...(cluster.isWorker ? { pid: process.pid } : {}) },
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
  /** The change feed, when feed.enabled (and workers run in this process). */
  feed?: FeedRuntime;
  /** Plain token generated for the local default (only when no token was configured). */
  generatedToken?: string;
  /** Static tokens, issued tokens, SAML trust. */
  auth: AuthRuntime;
  /** Puts the static bearer tokens of a re-read configuration in force (what SIGHUP does). */
  reloadTokens(config: BridgeConfig): void;
  stop(): Promise<void>;
}

export interface StartOptions {
  config: BridgeConfig;
  logger?: Logger;
  /** Seed for a throwaway slapd (default: the sample directory). */
  seedLdif?: string[];
  /** Receives the age of each other instance's write notice on arrival, in ms (benchmarks). */
  observeInvalidationWindow?: (ms: number) => void;
}

/**
 * The directory the configuration names (ldap.*), or the local default's throwaway slapd. Also
 * used by `scim-ldap-bridge validate --directory`.
 */
export function directoryFromConfig(
  config: BridgeConfig,
  local: LocalServices | undefined,
  logger: Logger,
): MeasuredDirectory {
  const servers = configuredLdapServers(config.ldap);
  return createLdapDirectory(
    {
      url: servers[0]?.url ?? local?.slapd?.url ?? '',
      ...(servers.length > 1 ? { servers } : {}),
      probeInitialMs: config.ldap.probeInitialMs,
      probeMaxMs: config.ldap.probeMaxMs,
      ...(servers.length > 0
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
      sortedPagesPerConnection: config.ldap.sortedPagesPerConnection,
      connectTimeoutMs: config.ldap.connectTimeoutMs,
      operationTimeoutMs: config.ldap.operationTimeoutMs,
      observe: observeLdapOperation,
    },
    logger.child({ component: 'ldap' }),
  );
}

function logListening(logger: Logger, baseUrl: string, mappings: MappingSet, config: BridgeConfig): void {
  const resourceTypes = mappings.resourceTypes.map((r) => r.endpoint);
  logger.info({ url: baseUrl, resourceTypes, config: redactConfig(config) }, 'listening');
}

export async function startBridge(options: StartOptions): Promise<RunningBridge> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.log.level);
  const mappings = openMappings(config, logger);
  const local = await startLocalDefaults(config, options.seedLdif, logger);
  const directory = directoryFromConfig(config, local, logger);
  await checkMappingsAgainst(directory, mappings, { config, local, logger });
  const redisUrl = config.redis.url ?? local?.redis?.url ?? '';
  const redis = await connectRedis(config, redisUrl, logger);
  const auth = await startAuth(config, { redis, mappings: mappings.store.mappings, logger });
  const observe = options.observeInvalidationWindow;
  const notices = writeNoticesFor({ config, redis, logger, observe });
  const resources = resourceServiceFor(config, notices.announcing(directory), mappings.store);
  listenForWrites(notices, directory, resources);
  const events = config.events.enabled
    ? startEventsFor(resources, { config, redis, redisUrl, logger, mappings: mappings.store.mappings })
    : undefined;
  if (events) resources.attachJournal(journalForFeed(config, { redis, directory }, events.journal));
  const feed = startFeedFor({ config, local, redis, logger, directory }, events, mappings.store.mappings);
  const unwatch = watchForMetrics(directory, events, feed);
  const load = new LoadGauge({
    maxInFlight: config.limits.maxInFlightRequests,
    maxEventLoopLagMs: config.limits.maxEventLoopLagMs,
  });
  const parts = { config, logger, resources, mappings: mappings.store, auth, load };
  const http = appOptions(parts, { directory, redis, events, feed });
  const admin = startAdmin({ ...parts, redis, directory, events, readiness: http.readiness });
  const app = createApp({ ...http, ...admin });
  const { server, url } = await listen(app, config);
  const baseUrl = `${url}${config.server.basePath}`;
  const stop = stopOnce(async () => {
    mappings.store.close();
    auth.stop();
    unwatch();
    await drain(server, load, config.server.drainTimeoutMs, logger);
    await feed?.stop();
    await events?.stop();
    await notices.stop();
    await Promise.allSettled([directory.close(), redis.quit().catch(() => redis.disconnect())]);
    await local?.stop();
  });
  logListening(logger, baseUrl, mappings.store.mappings(), config);
  return {
    url,
    baseUrl,
    server,
    directory,
    mappings: mappings.store.mappings,
    local,
    ...(events ? { events } : {}),
    ...(feed ? { feed } : {}),
    ...(auth.generatedToken ? { generatedToken: auth.generatedToken } : {}),
    auth,
    reloadTokens: (next) => auth.reloadTokens(next),
    stop,
  };
}

/** How long no request may be in flight before the drain closes idle connections. */
const DRAIN_QUIET_MS = 250;

/**
 * Graceful drain (docs/architecture.md §Back-pressure): /ready turns 503 and the listener stops
 * accepting at once; idle keep-alive connections close; requests in flight get `timeoutMs` to
 * finish (their answers ask the client to close); then every connection is closed.
 */
async function drain(server: Server, load: LoadGauge, timeoutMs: number, logger: Logger): Promise<void> {
  load.drain();
  const until = performance.now() + timeoutMs;
  // net.Server's close, not http.Server's: the latter also closes "idle" connections, which
  // include connections accepted a moment ago whose request has not been read yet (a request
  // lost). Connections with a request finish it (the answer says Connection: close).
  const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
  // Quiet for DRAIN_QUIET_MS: every accepted connection has had its request read by then.
  const settled = await load.settled(until - performance.now(), DRAIN_QUIET_MS);
  server.closeIdleConnections();
  const ended = await Promise.race([
    closed.then(() => true),
    new Promise<boolean>((resolve) =>
      setTimeout(() => resolve(false), Math.max(0, until - performance.now())),
    ),
  ]);
  if (!settled || !ended) {
    logger.warn(
      { inFlight: load.inFlight, drainTimeoutMs: timeoutMs },
      'drain timed out; closing connections',
    );
  }
  server.closeAllConnections();
  await closed;
  load.close();
}

/** Registers the pool and the event queues to be read at every scrape; returns their removal. */
function watchForMetrics(
  directory: MeasuredDirectory,
  events: EventsRuntime | undefined,
  feed: FeedRuntime | undefined,
): () => void {
  const removals = [
    watchPool(() => directory.usage()),
    watchDirectoryServers(() => directory.servers()),
    ...(events ? [watchQueues(() => queueUsage(events))] : []),
    ...(feed ? [watchFeed(() => feed.metrics())] : []),
  ];
  return () => {
    for (const remove of removals) remove();
  };
}

/** Each external service's queue, for the metrics (dead letters are BullMQ's failed jobs). */
async function queueUsage(events: EventsRuntime): Promise<QueueUsage[]> {
  return (await events.admin.stats()).map((s) => ({
    service: s.service,
    waiting: s.waiting,
    active: s.active,
    delayed: s.delayed,
    deadLetters: s.failed,
    delivered: s.delivered,
    failedAttempts: s.failedAttempts,
  }));
}

/** The commands that only talk to the queues need the configured, shared Redis (no local default). */
function requireSharedRedis(config: BridgeConfig): void {
  if (!redisConfigured(config)) {
    throw new ConfigError([
      {
        setting: 'redis.url',
        source: 'default',
        text: 'the jobs and worker commands need the shared Redis; expected redis.url (SCIM_BRIDGE_REDIS_URL) or redis.sentinels',
      },
    ]);
  }
}

/** For `scim-ldap-bridge jobs ...`: the queues of the configured services. */
export async function openJobsAdmin(
  config: BridgeConfig,
): Promise<{ admin: JobsAdmin; close(): Promise<void> }> {
  requireSharedRedis(config);
  const redis = createRedis(config, 'queue');
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
  // Every configuration check before anything starts (a refused setting leaves nothing running).
  requireSharedRedis(config);
  const secrets = resolveSecrets(config.events.services);
  const feed = startFeedInWorker(config, log);
  const pool = startWorkers({
    connect: redisConnector(config),
    keyPrefix: config.redis.keyPrefix,
    events: config.events,
    secrets,
    log: log.child({ component: 'events' }),
  });
  log.info(
    { services: config.events.services.map((s) => s.name), feed: feed !== undefined },
    'delivery workers started',
  );
  return {
    stop: async () => {
      await feed?.stop();
      await pool.close();
    },
  };
}

/**
 * Static tokens are added or revoked without a restart: the configuration is re-read on SIGHUP;
 * an invalid one is reported and the tokens in force stay. Other settings need a restart.
 */
function reloadTokensOnSignal(bridge: RunningBridge): void {
  try {
    bridge.reloadTokens(loadConfig());
  } catch (error) {
    process.stderr.write(`scim-ldap-bridge: SIGHUP reload refused\n${(error as Error).message}\n`);
  }
}

/** The configuration, or exit 2 with what is wrong in it. */
function loadConfigOrExit(): BridgeConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`scim-ldap-bridge: invalid configuration\n${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** Runs the service as a process: prints where it listens, stops on SIGINT/SIGTERM. */
export async function runMain(): Promise<void> {
  const config = loadConfigOrExit();
  if (runsWorkers(config)) return runPrimary(config, createLogger(config.log.level));
  shareMetricsWithPrimary();
  const localIdp = await withLocalIdp(config);
  let bridge: RunningBridge;
  try {
    bridge = await startBridge({ config: localIdp.config });
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
    config.admin.enabled
      ? `Admin console: ${bridge.url}/admin ${localIdp.url ? `(the token, or a test IdP at ${localIdp.url})` : ''}`
      : '',
    'Stop with Ctrl-C.',
    '',
  ].filter((l) => l !== '');
  // In a server.workers cluster the primary prints this once.
  if (!cluster.isWorker) process.stdout.write(`${lines.join('\n')}\n`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping\n`);
    bridge
      .stop()
      .then(() => localIdp.stop())
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on('SIGHUP', () => reloadTokensOnSignal(bridge));
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

/**
 * The steps of startBridge (main.ts), one function each: mappings, local defaults, the check of
 * the mappings against the directory, Redis, the bearer tokens, the use cases, events, the HTTP
 * app and its listener. Part of the composition root, like main.ts.
 */
import type { Server } from 'node:http';
import type { Redis } from 'ioredis';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { startWriteNotices, type WriteNotices } from './cluster/write-notices.ts';
import { type BridgeConfig, configuredLdapServers } from './config/index.ts';
import type { FeedRuntime } from './feed/index.ts';
import type { HttpDeps } from './http/app.ts';
import type { LoadGauge } from './http/middleware/shedding.ts';
import { RedisIdempotencyStore } from './idempotency/redis-store.ts';
import { type EventsRuntime, startEvents } from './jobs/index.ts';
import type { ServerStatus } from './ldap/index.ts';
import { type LocalServices, startLocalServices } from './localdev/stack.ts';
import { STANDARD_SCHEMAS } from './mapping/catalog.ts';
import { findResourceTypeByName, type MappingSet } from './mapping/compiled.ts';
import { formatProblem, type MappingProblem } from './mapping/problems.ts';
import { MappingStore } from './mapping/reload.ts';
import { subschemaVerifier } from './mapping/subschema.ts';
import { mappingReloads } from './observability/metrics.ts';
import type { Directory } from './ports/directory.ts';
import type { ResourceSource } from './ports/events.ts';
import { createRedis, redisConfigured, redisConnector } from './redis-clients.ts';
import { ScimError } from './scim/errors.ts';
import { checkReadiness, type DirectoryServerReport, type ReadinessReport } from './services/readiness.ts';
import { ResourceService } from './services/resources/service.ts';
import type { AuthRuntime } from './start-auth.ts';

/**
 * Values of one group's member attribute read in one response. No setting exists: RFC 7644 has
 * no paging of a multi-valued attribute, so a group is returned whole; the bound only stops one
 * paged walk of the members' back-links from running without end on a runaway directory.
 */
const MAX_MEMBERS_RETURNED = 1_000_000;

/** The use cases, without a journal yet (see ResourceService.attachJournal). */
export function resourceServiceFor(
  config: BridgeConfig,
  directory: Directory,
  mappings: MappingStore,
): ResourceService {
  return new ResourceService({
    directory,
    mappings: mappings.mappings,
    limits: {
      defaultPageSize: config.limits.defaultPageSize,
      maxPageSize: config.limits.maxPageSize,
      maxFilterLength: config.limits.maxFilterLength,
      patchMaxOperations: config.limits.patchMaxOperations,
      maxMembersReturned: MAX_MEMBERS_RETURNED,
    },
  });
}

export interface OpenMappings {
  store: MappingStore;
  /** Attaches the check against the directory's schema, once there is a directory. */
  checkWith(check: (set: MappingSet) => Promise<MappingProblem[]>): void;
}

/**
 * Hot reload: an invalid change keeps the last good mapping; /ready lists the problems. The
 * files are validated now, before any service starts; the check against the directory's schema
 * needs the directory, so it is attached later, before the first reload can happen.
 */
export function openMappings(config: BridgeConfig, logger: Logger): OpenMappings {
  const against: { check?: (set: MappingSet) => Promise<MappingProblem[]> } = {};
  const store = new MappingStore(config.mappings.dir, {
    catalog: STANDARD_SCHEMAS,
    onReload: (outcome, reason) => {
      mappingReloads.inc({ outcome: outcome.ok ? 'ok' : 'failed' });
      if (outcome.ok) logger.info({ reason, dir: config.mappings.dir }, 'mappings reloaded');
      else
        logger.error(
          { reason, dir: config.mappings.dir, problems: outcome.problems.map(formatProblem) },
          'mapping reload failed; the last good mapping stays in service',
        );
    },
    verify: async (set) => (against.check ? against.check(set) : []),
  });
  return {
    store,
    checkWith: (check) => {
      against.check = check;
    },
  };
}

/** The local default: throwaway slapd and/or Redis for whatever the configuration leaves out. */
export async function startLocalDefaults(
  config: BridgeConfig,
  seedLdif: string[] | undefined,
  logger: Logger,
): Promise<LocalServices | undefined> {
  const needLdap = configuredLdapServers(config.ldap).length === 0;
  const needRedis = !redisConfigured(config);
  if (!needLdap && !needRedis) return undefined;
  const local = await startLocalServices({
    ldap: needLdap,
    redis: needRedis,
    ...(seedLdif ? { seedLdif } : {}),
  });
  logger.info(
    { slapd: local.slapd?.url, redis: local.redis?.url },
    'local default: started throwaway services (set ldap.url / redis.url to use your own)',
  );
  return local;
}

/**
 * Every LDAP attribute and object class the mappings name must be in the directory's schema
 * (RFC 4512 §4.2): at start-up and before each reloaded set goes into service. A directory that
 * cannot be asked (down, or hiding its schema) skips the check with a warning.
 */
export async function checkMappingsAgainst(
  directory: Directory,
  mappings: OpenMappings,
  started: { config: BridgeConfig; local: LocalServices | undefined; logger: Logger },
): Promise<void> {
  const { config, local, logger } = started;
  mappings.checkWith(
    subschemaVerifier(directory, (reason) =>
      logger.warn(
        { reason, dir: config.mappings.dir },
        'mappings not checked against the directory schema (skipped)',
      ),
    ),
  );
  try {
    await mappings.store.verify();
  } catch (error) {
    await directory.close().catch(() => undefined);
    await local?.stop();
    throw error;
  }
  if (config.mappings.watch) mappings.store.watch();
}

/** The server's shared Redis client; start-up goes on when Redis is down (/ready says so). */
export async function connectRedis(config: BridgeConfig, redisUrl: string, logger: Logger): Promise<Redis> {
  // Role `server`: a hung Redis (SIGSTOP, a network partition) answers nothing; without a bound
  // every write that needs it would wait for its deadline (docs/architecture.md §Redis outage).
  const redis = createRedis(config, 'server', { localUrl: redisUrl, lazyConnect: true });
  redis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection problem'));
  await redis
    .connect()
    .catch((error: Error) => logger.warn({ err: error.message }, 'redis not reachable at start-up'));
  return redis;
}

/** Events: every write journaled before the directory write, delivered at least once. */
export function startEventsFor(
  resources: ResourceService,
  started: {
    config: BridgeConfig;
    redis: Redis;
    redisUrl: string;
    logger: Logger;
    mappings?: () => MappingSet;
  },
): EventsRuntime {
  const { config, redis, redisUrl, logger } = started;
  const mappings = started.mappings;
  return startEvents({
    events: config.events,
    keyPrefix: config.redis.keyPrefix,
    connect: redisConnector(config, redisUrl),
    redis,
    workers: config.events.workersInProcess,
    log: logger.child({ component: 'events' }),
    settleSaga: (outcome) => resources.settleProvisioning(outcome, config.events.sagaCompensation),
    probe: (resourceType, dn) => resources.probe(resourceType, dn),
    idempotencyTtlSeconds: config.idempotency.ttlSeconds,
    ...(config.redis.replicasToAcknowledge > 0
      ? {
          journalReplicas: {
            count: config.redis.replicasToAcknowledge,
            timeoutMs: Math.floor(config.redis.commandTimeoutMs / 2),
          },
        }
      : {}),
    ...(mappings ? { source: resourceSource(resources, mappings) } : {}),
  });
}

/**
 * Write notices (docs/architecture.md §Kept sorted lists and caches): writes through any instance
 * end every instance's kept lists and cached references (see listenForWrites).
 */
export function writeNoticesFor(started: {
  config: BridgeConfig;
  redis: Redis;
  logger: Logger;
  observe: ((ms: number) => void) | undefined;
}): WriteNotices {
  const { config, redis, logger, observe } = started;
  return startWriteNotices({
    redis,
    keyPrefix: config.redis.keyPrefix,
    warn: (fields, message) => logger.warn(fields, message),
    ...(observe ? { observeWindow: observe } : {}),
  });
}

/** Other instances' writes end this instance's kept lists and forget the written references. */
export function listenForWrites(
  notices: WriteNotices,
  directory: Directory,
  resources: ResourceService,
): void {
  notices.listen((dns) => {
    directory.endKeptResults?.();
    resources.forgetReferences(dns);
  });
}

/** The current resource, as GET would return it, for SCIM targets downstream; undefined when gone. */
function resourceSource(resources: ResourceService, mappings: () => MappingSet): ResourceSource {
  return async (resourceType, id) => {
    const rt = findResourceTypeByName(mappings(), resourceType);
    if (!rt) return undefined;
    try {
      const result = await resources.get({
        resourceType: rt,
        id,
        projection: {},
        ctx: { baseUrl: '', actor: 'events' },
      });
      return result.resource;
    } catch (error) {
      if (error instanceof ScimError && error.status === 404) return undefined;
      throw error;
    }
  };
}

export interface AppParts {
  config: BridgeConfig;
  logger: Logger;
  resources: ResourceService;
  mappings: MappingStore;
  auth: AuthRuntime;
  load: LoadGauge;
}

/** Per-client and per-route rate limits, shared through Redis; none while both are 0. */
function rateLimitFor(config: BridgeConfig, redis: Redis): Pick<HttpDeps, 'rateLimit'> {
  const limits = config.limits;
  if (limits.clientRequestsPerWindow <= 0 && limits.routeRequestsPerWindow <= 0) return {};
  return {
    rateLimit: {
      redis,
      keyPrefix: config.redis.keyPrefix,
      windowSeconds: limits.rateLimitWindowSeconds,
      perClient: limits.clientRequestsPerWindow,
      perRoute: limits.routeRequestsPerWindow,
      basePath: config.server.basePath,
    },
  };
}

export function appOptions(
  parts: AppParts,
  probes: {
    directory: DirectoryWithServers;
    redis: Redis;
    events: EventsRuntime | undefined;
    feed?: FeedRuntime | undefined;
  },
): HttpDeps {
  const { config, logger, resources, mappings, auth, load } = parts;
  return {
    logger,
    load,
    ...rateLimitFor(config, probes.redis),
    basePath: config.server.basePath,
    ...(config.server.publicBaseUrl ? { publicBaseUrl: config.server.publicBaseUrl } : {}),
    bodyLimitBytes: config.server.bodyLimitBytes,
    trustProxy: config.server.trustProxy,
    authenticator: auth.authenticator,
    ...(auth.tokenGrant ? { tokenGrant: auth.tokenGrant } : {}),
    ...(auth.spMetadataXml ? { spMetadataXml: auth.spMetadataXml } : {}),
    ...(auth.webSso ? { webSso: auth.webSso } : {}),
    requestTimeoutMs: config.server.requestTimeoutMs,
    ...(config.metrics.token ? { metricsToken: config.metrics.token } : {}),
    jsonMaxDepth: config.limits.jsonMaxDepth,
    resources,
    mappings: mappings.mappings,
    discovery: {
      maxPageSize: config.limits.maxPageSize,
      defaultPageSize: config.limits.defaultPageSize,
      bulk: {
        supported: true,
        maxOperations: config.limits.bulkMaxOperations,
        maxPayloadSize: config.limits.bulkMaxPayloadBytes,
      },
      conditionalWrites: async () => (await probes.directory.capabilities()).assertion,
      patchMaxOperations: config.limits.patchMaxOperations,
    },
    idempotency: {
      store: new RedisIdempotencyStore(probes.redis, {
        keyPrefix: config.redis.keyPrefix,
        ttlSeconds: config.idempotency.ttlSeconds,
        lockTtlSeconds: config.idempotency.lockTtlSeconds,
      }),
      lockTtlSeconds: config.idempotency.lockTtlSeconds,
      ...(probes.events?.fates ? { fates: probes.events.fates } : {}),
      onStoreError: (error, ctx) =>
        logger.warn(
          { err: (error as Error).message, requestId: ctx.state.requestId },
          'idempotency store failed after the request executed; a retry with the same key may execute again',
        ),
    },
    readiness: () => readiness(mappings, { ...probes, warnings: auth.warnings }, load),
  };
}

/** Each /ready probe's bound: under the shortest request deadline a test or deployment uses. */
const READINESS_PROBE_MS = 1_500;
/**
 * Redis's probes (PING, the events' figures) are bounded tighter: with Redis hung, /ready must
 * still answer within a load balancer's check interval (localdev/topology.ts HEALTH_CHECK, 1 s),
 * or the balancer takes out every instance at once (docs/architecture.md §Redis outage).
 */
const REDIS_PROBE_MS = 500;

function withinMs<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * /ready: the directory answers and the instance takes work (else "cannot serve"); Redis down
 * degrades it; warnings from the mappings, the events subsystem and the SAML trust.
 */
export async function readiness(
  mappings: MappingStore,
  probes: {
    directory: DirectoryWithServers;
    redis: Redis;
    events: EventsRuntime | undefined;
    feed?: FeedRuntime | undefined;
    /** Further warnings (the SAML trust: a failed metadata refresh degrades, it does not fail). */
    warnings?: () => string[];
  },
  load?: LoadGauge,
): Promise<ReadinessReport> {
  const { directory, redis, events } = probes;
  // The events' warnings read Redis too: asked alongside the probes and bounded like Redis's.
  const eventWarnings = events
    ? withinMs(events.warnings(), REDIS_PROBE_MS).catch(() => [
        `events: queue figures unavailable (no answer from Redis within ${REDIS_PROBE_MS} ms)`,
      ])
    : Promise.resolve([]);
  const servers = directory.servers?.() ?? [];
  const serverWarnings = directoryServerWarnings(servers);
  const report = await checkReadiness(
    [
      { name: 'directory', check: () => directory.ping() },
      {
        name: 'redis',
        check: async () => {
          if ((await redis.ping()) !== 'PONG') throw new Error('unexpected PING reply');
        },
        degradesOnly: true,
        timeoutMs: REDIS_PROBE_MS,
      },
      ...(load ? [{ name: 'load', check: async () => loadCheck(load), speaksPublicly: true }] : []),
    ],
    READINESS_PROBE_MS,
    () => [
      ...mappings.warnings(),
      ...(probes.feed?.warnings() ?? []),
      ...serverWarnings,
      ...(probes.warnings?.() ?? []),
    ],
  );
  const withEvents = { ...report, warnings: [...report.warnings, ...(await eventWarnings)] };
  return servers.length > 1
    ? { ...withEvents, directoryServers: directoryServersReport(servers) }
    : withEvents;
}

/** A Directory that may report its servers' states (ldap/server-set.ts). */
type DirectoryWithServers = Directory & { servers?(): ServerStatus[] };

/**
 * /ready's view of several directory servers (docs/architecture.md §Directory failover): each by
 * its place in ldap.urls and its role, never its URL (/ready is public).
 */
function directoryServersReport(servers: ServerStatus[]): DirectoryServerReport[] {
  return servers.map((server, index) => ({
    server: index + 1,
    role: server.role,
    state: server.state,
    since: new Date(server.since).toISOString(),
  }));
}

/** One of several servers down: degraded (the others serve); no writable one up: writes get 503. */
function directoryServerWarnings(servers: ServerStatus[]): string[] {
  if (servers.length < 2) return [];
  const warnings = servers.flatMap((server, index) =>
    server.state === 'down'
      ? [
          `directory server ${index + 1} of ${servers.length} (${server.role}) down since ${new Date(server.since).toISOString()}`,
        ]
      : [],
  );
  const writableUp = servers.some((server) => server.role === 'readWrite' && server.state === 'up');
  if (!writableUp) warnings.push('no writable directory server is up: writes get 503 until one answers');
  return warnings;
}

/** /ready's view of this instance's own state: draining, or shedding load. */
function loadCheck(load: LoadGauge): void {
  if (load.draining) throw new Error('draining: shutting down, taking no new work');
  const overloaded = load.overloaded();
  if (overloaded) throw new Error(`shedding load: ${overloaded}`);
}

export async function listen(app: Koa, config: BridgeConfig): Promise<{ server: Server; url: string }> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.server.port, config.server.host, () => resolve(s));
    s.once('error', reject);
  });
  server.requestTimeout = config.server.requestTimeoutMs;
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : config.server.port;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  return { server, url: `http://${host}:${port}` };
}

/** A stop that runs once however often it is called. */
export function stopOnce(stop: () => Promise<void>): () => Promise<void> {
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    await stop();
  };
}

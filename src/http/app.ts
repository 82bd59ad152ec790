/**
 * The Koa application. The middleware stack is written as a table, outermost first, so the order
 * in which a request meets request-id, logging, errors, authentication and body parsing is plain.
 */
import { Router } from '@koa/router';
import Koa from 'koa';
import compose from 'koa-compose';
import type { Logger } from 'pino';
import type { ActivityLog } from '../admin/activity.ts';
import type { AuditLog } from '../admin/audit-log.ts';
import { type RequestRecorder, secretAttributeNames } from '../admin/recorded-requests.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { WebSso } from '../auth/saml/web-sso.ts';
import type { MappingSet } from '../mapping/compiled.ts';
import { deadlineExpiries } from '../observability/metrics.ts';
import type { DiscoveryOptions } from '../services/discovery.ts';
import type { ReadinessReport } from '../services/readiness.ts';
import type { ResourceService } from '../services/resources/service.ts';
import { accessLog } from './middleware/access-log.ts';
import { recordActivity } from './middleware/activity.ts';
import { authenticate } from './middleware/authenticate.ts';
import { jsonBody } from './middleware/body.ts';
import { requestDeadline } from './middleware/deadline.ts';
import { scimErrors } from './middleware/errors.ts';
import { type IdempotencyOptions, idempotency } from './middleware/idempotency.ts';
import { requestMetrics } from './middleware/metrics.ts';
import { requestOrigin } from './middleware/origin.ts';
import { type RateLimitOptions, rateLimit } from './middleware/rate-limit.ts';
import { requestId } from './middleware/request-id.ts';
import { requireScopes } from './middleware/scopes.ts';
import type { LoadGauge } from './middleware/shedding.ts';
import { registerBulkRoutes } from './routes/bulk.ts';
import { registerDiscoveryRoutes } from './routes/discovery.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerMeRoutes } from './routes/me.ts';
import { registerMetricsRoute } from './routes/metrics.ts';
import { registerOAuthRoutes, type TokenEndpoint } from './routes/oauth.ts';
import { registerResourceRoutes } from './routes/resources.ts';
import { registerSamlRoutes } from './routes/saml.ts';

export interface HttpDeps {
  logger: Logger;
  basePath: string;
  publicBaseUrl?: string;
  bodyLimitBytes: number;
  /** server.trustProxy: the proxies whose X-Forwarded-* headers are believed. */
  trustProxy?: readonly string[];
  authenticator: Authenticator;
  /** POST /oauth/token (RFC 7522 grant); absent while no IdP is trusted. */
  tokenGrant?: TokenEndpoint;
  /** GET /saml/metadata; absent while auth.saml.entityId is unset. */
  spMetadataXml?: string;
  /** SP-initiated Web SSO for admins under /saml; absent while no IdP is trusted. */
  webSso?: WebSso;
  /** Deepest JSON nesting accepted in a request body (limits.jsonMaxDepth); default 64. */
  jsonMaxDepth?: number;
  resources: ResourceService;
  mappings: () => MappingSet;
  discovery: DiscoveryOptions;
  readiness: () => Promise<ReadinessReport>;
  /** server.requestTimeoutMs: each request's deadline. */
  requestTimeoutMs: number;
  /** metrics.token: /metrics is served, behind this bearer token, only when it is set. */
  metricsToken?: string;
  /** Requests in flight, load shedding and the drain switch. */
  load: LoadGauge;
  /** Per-client and per-route rate limits (shared through Redis); absent: none. */
  rateLimit?: RateLimitOptions;
  /** Idempotency-Key support on SCIM writes; absent: the header is ignored. */
  idempotency?: IdempotencyOptions;
  /** The admin console under /admin (admin/console.ts); absent: not served. */
  admin?: Koa.Middleware;
  /** Where SCIM writes are recorded for the console's overview; absent: not recorded. */
  activity?: ActivityLog;
  /** Where SCIM write requests (without secrets) are kept for the mapping preview; absent: not kept. */
  recordedRequests?: RequestRecorder;
  /** The console's audit log, for SSO sign-ins at /saml/acs. */
  adminAudit?: AuditLog;
}

export function createApp(deps: HttpDeps): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true;

  const operational = operationalRouter(deps);
  const scim = scimRouter(deps);

  const basePath = deps.basePath.toLowerCase();
  const inScimBase = (path: string) => {
    const lower = path.toLowerCase();
    return lower === basePath || lower.startsWith(`${basePath}/`);
  };

  // Every request, outermost first.
  const envelope: [string, Koa.Middleware][] = [
    ['request id: accept or make X-Request-Id', requestId],
    ['access log: one line per request', accessLog(deps.logger)],
    ['metrics: in-flight, latency by route, method and status', requestMetrics()],
    ['SCIM errors: RFC 7644 §3.12 bodies', scimErrors(deps.logger)],
    ['origin: checked Host, X-Forwarded-* from trusted proxies only', requestOrigin(deps.trustProxy ?? [])],
    ['load shedding: 503 at once while overloaded', deps.load.middleware((path) => !inScimBase(path))],
    [
      'deadline: 503 + Retry-After at server.requestTimeoutMs',
      requestDeadline({
        timeoutMs: deps.requestTimeoutMs,
        onExpired: (ctx) => deadlineExpiries.inc({ route: String(ctx.state.routeName ?? 'unmatched') }),
      }),
    ],
  ];
  // Requests under the SCIM base path.
  const scimStack: [string, Koa.Middleware][] = [
    ['authentication: bearer token on every SCIM route', authenticate(deps.authenticator)],
    ...optional('activity: SCIM writes recorded for the console (no secrets)', activity(deps)),
    ...optional('rate limits: 429 per client and per route', deps.rateLimit && rateLimit(deps.rateLimit)),
    [
      'scopes: the token may do this (path + method)',
      requireScopes({ basePath: deps.basePath, mappings: deps.mappings }),
    ],
    ['JSON body: size limit, media type, syntax', jsonBody(deps.bodyLimitBytes, deps.jsonMaxDepth)],
    ...optional(
      'Idempotency-Key: replay or lock SCIM writes (needs principal and body)',
      deps.idempotency && idempotency(deps.idempotency),
    ),
    ['SCIM routes', scim.routes() as unknown as Koa.Middleware],
    ['405 with Allow for known paths', scim.allowedMethods() as unknown as Koa.Middleware],
  ];
  // Everything else: health and readiness, the token endpoint and SP metadata, unauthenticated;
  // any other path is a SCIM 404.
  const outside = operational.routes() as unknown as Koa.Middleware;

  for (const [, middleware] of envelope) app.use(middleware);
  // The console (its own sessions and CSRF; not under the SCIM base, so no SCIM auth) for /admin paths.
  if (deps.admin) app.use(deps.admin);
  const scimHandler = compose(scimStack.map(([, middleware]) => middleware));
  // The path decides once which stack a request meets.
  app.use((ctx, next) => (inScimBase(ctx.path) ? scimHandler(ctx, next) : outside(ctx, next)));
  return app;
}

function activity(deps: HttpDeps): Koa.Middleware | undefined {
  if (!deps.activity) return undefined;
  const warn = (error: unknown) =>
    deps.logger.warn({ err: (error as Error).message }, 'activity record not stored');
  const recorder = deps.recordedRequests;
  const requests = recorder && { recorder, secrets: () => secretAttributeNames(deps.mappings()) };
  return recordActivity(deps.activity, deps.basePath, warn, requests);
}

/** A row of the middleware table when the feature is configured, else none. */
function optional(name: string, middleware: Koa.Middleware | undefined): [string, Koa.Middleware][] {
  return middleware ? [[name, middleware]] : [];
}

/** Outside the SCIM base path: health and readiness, metrics, the token endpoint, SAML. */
function operationalRouter(deps: HttpDeps): Router {
  const operational = new Router();
  registerHealthRoutes(operational, deps.readiness);
  registerMetricsRoute(operational, deps.metricsToken);
  if (deps.tokenGrant) registerOAuthRoutes(operational, deps.tokenGrant, deps.logger);
  if (deps.spMetadataXml) {
    const sso = deps.webSso ? { sso: deps.webSso } : {};
    const audit = deps.adminAudit ? { audit: deps.adminAudit } : {};
    registerSamlRoutes(operational, {
      metadataXml: deps.spMetadataXml,
      logger: deps.logger,
      ...sso,
      ...audit,
    });
  }

  return operational;
}

/** The SCIM endpoints under the base path: discovery, /Bulk, and the resource types' endpoints. */
function scimRouter(deps: HttpDeps): Router {
  const scim = new Router({ prefix: deps.basePath, sensitive: false, strict: false });
  registerDiscoveryRoutes(scim, {
    mappings: deps.mappings,
    options: deps.discovery,
    basePath: deps.basePath,
    ...(deps.publicBaseUrl ? { publicBaseUrl: deps.publicBaseUrl } : {}),
  });
  registerBulkRoutes(scim, {
    logger: deps.logger,
    resources: deps.resources,
    mappings: deps.mappings,
    maxOperations: deps.discovery.bulk.maxOperations,
    maxPayloadSize: deps.discovery.bulk.maxPayloadSize,
    basePath: deps.basePath,
    ...(deps.publicBaseUrl ? { publicBaseUrl: deps.publicBaseUrl } : {}),
  });
  registerMeRoutes(scim);
  registerResourceRoutes(scim, {
    resources: deps.resources,
    mappings: deps.mappings,
    basePath: deps.basePath,
    ...(deps.publicBaseUrl ? { publicBaseUrl: deps.publicBaseUrl } : {}),
  });
  return scim;
}

/**
 * The Koa application. The middleware stack is written as a table, outermost first, so the order
 * in which a request meets request-id, logging, errors, authentication and body parsing is plain.
 */
import { Router } from '@koa/router';
import Koa from 'koa';
import compose from 'koa-compose';
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { MappingSet } from '../mapping/compiled.ts';
import type { DiscoveryOptions } from '../services/discovery.ts';
import type { ReadinessReport } from '../services/readiness.ts';
import type { ResourceService } from '../services/resources/service.ts';
import { accessLog } from './middleware/access-log.ts';
import { authenticate } from './middleware/authenticate.ts';
import { jsonBody } from './middleware/body.ts';
import { scimErrors } from './middleware/errors.ts';
import { type IdempotencyOptions, idempotency } from './middleware/idempotency.ts';
import { requestId } from './middleware/request-id.ts';
import { registerBulkRoutes } from './routes/bulk.ts';
import { registerDiscoveryRoutes } from './routes/discovery.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerResourceRoutes } from './routes/resources.ts';

export interface HttpDeps {
  logger: Logger;
  basePath: string;
  publicBaseUrl?: string;
  bodyLimitBytes: number;
  /** Deepest JSON nesting accepted in a request body (limits.jsonMaxDepth); default 64. */
  jsonMaxDepth?: number;
  tokens: TokenVerifier;
  resources: ResourceService;
  mappings: () => MappingSet;
  discovery: DiscoveryOptions;
  readiness: () => Promise<ReadinessReport>;
  /** Idempotency-Key support on SCIM writes; absent: the header is ignored. */
  idempotency?: IdempotencyOptions;
}

export function createApp(deps: HttpDeps): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true;

  const operational = new Router();
  registerHealthRoutes(operational, deps.readiness);

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
    ['SCIM errors: RFC 7644 §3.12 bodies', scimErrors(deps.logger)],
  ];
  // Requests under the SCIM base path.
  const scimStack: [string, Koa.Middleware][] = [
    ['authentication: bearer token on every SCIM route', authenticate(deps.tokens)],
    ['JSON body: size limit, media type, syntax', jsonBody(deps.bodyLimitBytes, deps.jsonMaxDepth)],
    ...(deps.idempotency
      ? [
          [
            'Idempotency-Key: replay or lock SCIM writes (needs principal and body)',
            idempotency(deps.idempotency),
          ] as [string, Koa.Middleware],
        ]
      : []),
    ['SCIM routes', scim.routes() as unknown as Koa.Middleware],
    ['405 with Allow for known paths', scim.allowedMethods() as unknown as Koa.Middleware],
  ];
  // Everything else: health and readiness, unauthenticated; any other path is a SCIM 404.
  const outside = operational.routes() as unknown as Koa.Middleware;

  for (const [, middleware] of envelope) app.use(middleware);
  const scimHandler = compose(scimStack.map(([, middleware]) => middleware));
  // The path decides once which stack a request meets.
  app.use((ctx, next) => (inScimBase(ctx.path) ? scimHandler(ctx, next) : outside(ctx, next)));
  return app;
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
    resources: deps.resources,
    mappings: deps.mappings,
    maxOperations: deps.discovery.bulk.maxOperations,
    maxPayloadSize: deps.discovery.bulk.maxPayloadSize,
    basePath: deps.basePath,
    ...(deps.publicBaseUrl ? { publicBaseUrl: deps.publicBaseUrl } : {}),
  });
  registerResourceRoutes(scim, {
    resources: deps.resources,
    mappings: deps.mappings,
    basePath: deps.basePath,
    ...(deps.publicBaseUrl ? { publicBaseUrl: deps.publicBaseUrl } : {}),
  });
  return scim;
}

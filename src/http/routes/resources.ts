/**
 * Resource endpoints for every mapped resource type (RFC 7644 §3.2–3.6): /Users, /Groups, ...
 * Endpoint names match case-insensitively (Entra sends /users) and with a trailing slash.
 */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import type { Principal } from '../../auth/tokens.ts';
import {
  type CompiledResourceType,
  findResourceTypeByEndpoint,
  type MappingSet,
} from '../../mapping/compiled.ts';
import type { IdempotencyClaim, WriteFate } from '../../ports/idempotency.ts';
import { ScimError } from '../../scim/errors.ts';
import { matchesEtag } from '../../scim/etag.ts';
import {
  listQueryFromSearchRequest,
  listQueryFromUrl,
  projectionFromUrl,
  type QueryParameters,
  queryParameters,
} from '../../scim/search-request.ts';
import type { Precondition, RequestContext } from '../../services/resources/context.ts';
import type { ResourceService } from '../../services/resources/service.ts';
import { baseUrlOf, sendScim } from '../respond.ts';

export interface ResourceRoutesDeps {
  resources: ResourceService;
  mappings: () => MappingSet;
  basePath: string;
  publicBaseUrl?: string;
}

type Handler = (deps: ResourceRoutesDeps, ctx: Context) => Promise<void>;

/** Every resource route (RFC 7644 §3.2-3.6) with its handler, registered in this order. */
const ROUTES: readonly {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  handler: Handler;
}[] = [
  // Queries at the server root, across resource types (RFC 7644 §3.4.2.1, §3.4.3).
  { method: 'post', path: '/.search', handler: searchAll },
  { method: 'get', path: '/', handler: listAll },
  { method: 'get', path: '/:endpoint', handler: list },
  { method: 'post', path: '/:endpoint/.search', handler: search },
  { method: 'post', path: '/:endpoint', handler: create },
  { method: 'get', path: '/:endpoint/:id', handler: getOne },
  { method: 'put', path: '/:endpoint/:id', handler: replace },
  { method: 'patch', path: '/:endpoint/:id', handler: patch },
  { method: 'delete', path: '/:endpoint/:id', handler: remove },
];

export function registerResourceRoutes(router: Router, deps: ResourceRoutesDeps): void {
  for (const { method, path, handler } of ROUTES) router[method](path, (ctx) => handler(deps, ctx));
}

function resourceType(deps: ResourceRoutesDeps, ctx: Context): CompiledResourceType {
  const segment = String(ctx.params.endpoint ?? '');
  const rt = findResourceTypeByEndpoint(deps.mappings(), segment);
  if (!rt) throw ScimError.notFound(`no resource type at /${segment}`);
  ctx.state.routeName = `${ctx.method} ${rt.endpoint}${ctx.params.id ? '/{id}' : ''}`;
  return rt;
}

function urlQuery(ctx: Context): QueryParameters {
  return queryParameters(ctx.querystring);
}

function context(deps: ResourceRoutesDeps, ctx: Context): RequestContext {
  return {
    baseUrl: baseUrlOf(ctx, deps.basePath, deps.publicBaseUrl),
    actor: (ctx.state.principal as { name: string } | undefined)?.name ?? 'anonymous',
    deadlineAt: ctx.state.deadlineAt as number | undefined,
    idempotency: ctx.state.idempotencyClaim as IdempotencyClaim | undefined,
  };
}

/**
 * A keyed write an earlier attempt already made (its instance died before the answer was stored;
 * http/middleware/idempotency.ts, docs/architecture.md §Idempotency): the id it wrote, when it is
 * this route's operation on this resource type; the route answers as the first answer would have.
 */
function completedWrite(
  ctx: Context,
  rt: CompiledResourceType,
  operation: 'add' | 'modify' | 'delete',
): string | undefined {
  const fate = ctx.state.completedWrite as WriteFate | undefined;
  if (fate?.state !== 'completed' || fate.operation !== operation || fate.resourceType !== rt.name)
    return undefined;
  return fate.resourceId;
}

/** The resource as it now reads, answered with `status` (and Location, ETag) as a write would. */
async function answerAsWritten(
  deps: ResourceRoutesDeps,
  ctx: Context,
  request: { rt: CompiledResourceType; id: string; status: 200 | 201 | 204 },
): Promise<void> {
  const result = await deps.resources.get({
    resourceType: request.rt,
    id: request.id,
    projection: request.status === 201 ? {} : projectionFromUrl(urlQuery(ctx)),
    ctx: context(deps, ctx),
  });
  const headers = { location: result.location, ...(result.version ? { etag: result.version } : {}) };
  if (request.status === 204) sendScim(ctx, 204, undefined, headers);
  else sendScim(ctx, request.status, result.resource, headers);
}

/** `POST /.search` (RFC 7644 §3.4.3). */
async function searchAll(deps: ResourceRoutesDeps, ctx: Context): Promise<void> {
  ctx.state.routeName = 'POST /.search';
  const query = listQueryFromSearchRequest(ctx.state.body);
  sendScim(ctx, 200, await deps.resources.listAll({ query, ctx: context(deps, ctx) }));
}

/** `GET /` (RFC 7644 §3.4.2.1). */
async function listAll(deps: ResourceRoutesDeps, ctx: Context): Promise<void> {
  ctx.state.routeName = 'GET /';
  sendScim(
    ctx,
    200,
    await deps.resources.listAll({ query: listQueryFromUrl(urlQuery(ctx)), ctx: context(deps, ctx) }),
  );
}

/** `GET /Users?filter=...` (RFC 7644 §3.4.2). */
async function list(deps: ResourceRoutesDeps, ctx: Context): Promise<void> {
  const rt = resourceType(deps, ctx);
  const query = listQueryFromUrl(urlQuery(ctx));
  const result = await deps.resources.list({ resourceType: rt, query, ctx: context(deps, ctx) });
  sendScim(ctx, 200, result);
}

/** `POST /Users/.search` (RFC 7644 §3.4.3). */
async function search(deps: ResourceRoutesDeps, ctx: Context): Promise<void> {
  const rt = resourceType(deps, ctx);
  ctx.state.routeName = `POST ${rt.endpoint}/.search`;
  const query = listQueryFromSearchRequest(ctx.state.body);
  const result = await deps.resources.list({ resourceType: rt, query, ctx: context(deps, ctx) });
  sendScim(ctx, 200, result);
}

/** `POST /Users` (RFC 7644 §3.3). */
async function create(deps: ResourceRoutesDeps, ctx: Context): Promise<void> {
  const rt = resourceType(deps, ctx);
  const written = completedWrite(ctx, rt, 'add');
  if (written) return answerAsWritten(deps, ctx, { rt, id: written, status: 201 });
  const result = await deps.resources.create({
    resourceType: rt,
    body: requireBody(ctx),
    ctx: context(deps, ctx),
  });
  sendScim(ctx, 201, result.resource, {
    location: result.location,
    ...(result.version ? { etag: result.version } : {}),
  });
}

/** `GET /Users/{id}` (RFC 7644 §3.4.1). */
async function getOne(deps: ResourceRoutesDeps, ctx: Context): Promise<void> {
  const rt = resourceType(deps, ctx);
  const result = await deps.resources.get({
    resourceType: rt,
    id: String(ctx.params.id),
    projection: projectionFromUrl(urlQuery(ctx)),
    ctx: context(deps, ctx),
  });
  const ifNoneMatch = ctx.get('If-None-Match');
  if (ifNoneMatch && result.version && matchesEtag(ifNoneMatch, result.version)) {
    // RFC 7644 §3.14 / RFC 9110 §13.1.2: unchanged since the client's copy.
    sendScim(ctx, 304, undefined, { etag: result.version });
    return;
  }
  sendScim(ctx, 200, result.resource, {
    location: result.location,
    ...(result.version ? { etag: result.version } : {}),
  });
}

/** `PUT /Users/{id}` (RFC 7644 §3.5.1). */
async function replace(deps: ResourceRoutesDeps, ctx: Context): Promise<void> {
  const rt = resourceType(deps, ctx);
  const written = completedWrite(ctx, rt, 'modify');
  if (written) return answerAsWritten(deps, ctx, { rt, id: written, status: 200 });
  const result = await deps.resources.replace({
    resourceType: rt,
    id: String(ctx.params.id),
    body: requireBody(ctx),
    precondition: precondition(ctx),
    response: { projection: projectionFromUrl(urlQuery(ctx)) },
    ctx: context(deps, ctx),
  });
  sendScim(ctx, 200, result.resource, {
    location: result.location,
    ...(result.version ? { etag: result.version } : {}),
  });
}

/** `PATCH /Users/{id}` (RFC 7644 §3.5.2). */
async function patch(deps: ResourceRoutesDeps, ctx: Context): Promise<void> {
  const rt = resourceType(deps, ctx);
  const projection = projectionFromUrl(urlQuery(ctx));
  // RFC 7644 §3.5.2: 200 with the resource, or 204; `attributes` asks for the resource. Without
  // a body the resource is not built (a big group's members are never read for a 204).
  const principal = ctx.state.principal as Principal | undefined;
  const body = (principal?.patchResponse ?? rt.patchResponse) !== 204 || projection.attributes !== undefined;
  const written = completedWrite(ctx, rt, 'modify');
  if (written) return answerAsWritten(deps, ctx, { rt, id: written, status: body ? 200 : 204 });
  const result = await deps.resources.patch({
    resourceType: rt,
    id: String(ctx.params.id),
    body: requireBody(ctx),
    precondition: precondition(ctx),
    response: { projection, body },
    ctx: context(deps, ctx),
  });
  const headers = { location: result.location, ...(result.version ? { etag: result.version } : {}) };
  if (body) sendScim(ctx, 200, result.resource, headers);
  else sendScim(ctx, 204, undefined, headers);
}

/** `DELETE /Users/{id}` (RFC 7644 §3.6). */
async function remove(deps: ResourceRoutesDeps, ctx: Context): Promise<void> {
  const rt = resourceType(deps, ctx);
  if (completedWrite(ctx, rt, 'delete')) {
    sendScim(ctx, 204, undefined);
    return;
  }
  await deps.resources.delete({
    resourceType: rt,
    id: String(ctx.params.id),
    precondition: precondition(ctx),
    ctx: context(deps, ctx),
  });
  sendScim(ctx, 204, undefined);
}

function requireBody(ctx: Context): unknown {
  const body = ctx.state.body as unknown;
  if (body === undefined) throw ScimError.invalidSyntax('a JSON request body is required');
  return body;
}

function precondition(ctx: Context): Precondition {
  const ifMatch = ctx.get('If-Match');
  return ifMatch ? { ifMatch } : {};
}

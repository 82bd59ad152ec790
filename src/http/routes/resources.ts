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

export function registerResourceRoutes(router: Router, deps: ResourceRoutesDeps): void {
  const { resources } = deps;
  const resourceType = (ctx: Context): CompiledResourceType => {
    const segment = String(ctx.params.endpoint ?? '');
    const rt = findResourceTypeByEndpoint(deps.mappings(), segment);
    if (!rt) throw ScimError.notFound(`no resource type at /${segment}`);
    ctx.state.routeName = `${ctx.method} ${rt.endpoint}${ctx.params.id ? '/{id}' : ''}`;
    return rt;
  };
  const urlQuery = (ctx: Context): QueryParameters => queryParameters(ctx.querystring);
  const context = (ctx: Context): RequestContext => ({
    baseUrl: baseUrlOf(ctx, deps.basePath, deps.publicBaseUrl),
    actor: (ctx.state.principal as { name: string } | undefined)?.name ?? 'anonymous',
  });

  // Queries at the server root, across resource types (RFC 7644 §3.4.2.1, §3.4.3).
  router.post('/.search', async (ctx) => {
    ctx.state.routeName = 'POST /.search';
    const query = listQueryFromSearchRequest(ctx.state.body);
    sendScim(ctx, 200, await resources.listAll({ query, ctx: context(ctx) }));
  });
  router.get('/', async (ctx) => {
    ctx.state.routeName = 'GET /';
    sendScim(
      ctx,
      200,
      await resources.listAll({ query: listQueryFromUrl(urlQuery(ctx)), ctx: context(ctx) }),
    );
  });

  router.get('/:endpoint', async (ctx) => {
    const rt = resourceType(ctx);
    const query = listQueryFromUrl(urlQuery(ctx));
    const result = await resources.list({ resourceType: rt, query, ctx: context(ctx) });
    sendScim(ctx, 200, result);
  });

  router.post('/:endpoint/.search', async (ctx) => {
    const rt = resourceType(ctx);
    ctx.state.routeName = `POST ${rt.endpoint}/.search`;
    const query = listQueryFromSearchRequest(ctx.state.body);
    const result = await resources.list({ resourceType: rt, query, ctx: context(ctx) });
    sendScim(ctx, 200, result);
  });

  router.post('/:endpoint', async (ctx) => {
    const rt = resourceType(ctx);
    const result = await resources.create({ resourceType: rt, body: requireBody(ctx), ctx: context(ctx) });
    sendScim(ctx, 201, result.resource, {
      location: result.location,
      ...(result.version ? { etag: result.version } : {}),
    });
  });

  router.get('/:endpoint/:id', async (ctx) => {
    const rt = resourceType(ctx);
    const result = await resources.get({
      resourceType: rt,
      id: String(ctx.params.id),
      projection: projectionFromUrl(urlQuery(ctx)),
      ctx: context(ctx),
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
  });

  router.put('/:endpoint/:id', async (ctx) => {
    const rt = resourceType(ctx);
    const result = await resources.replace({
      resourceType: rt,
      id: String(ctx.params.id),
      body: requireBody(ctx),
      precondition: precondition(ctx),
      response: { projection: projectionFromUrl(urlQuery(ctx)) },
      ctx: context(ctx),
    });
    sendScim(ctx, 200, result.resource, {
      location: result.location,
      ...(result.version ? { etag: result.version } : {}),
    });
  });

  router.patch('/:endpoint/:id', async (ctx) => {
    const rt = resourceType(ctx);
    const projection = projectionFromUrl(urlQuery(ctx));
    // RFC 7644 §3.5.2: 200 with the resource, or 204; `attributes` asks for the resource. Without
    // a body the resource is not built (a big group's members are never read for a 204).
    const principal = ctx.state.principal as Principal | undefined;
    const body =
      (principal?.patchResponse ?? rt.patchResponse) !== 204 || projection.attributes !== undefined;
    const result = await resources.patch({
      resourceType: rt,
      id: String(ctx.params.id),
      body: requireBody(ctx),
      precondition: precondition(ctx),
      response: { projection, body },
      ctx: context(ctx),
    });
    const headers = { location: result.location, ...(result.version ? { etag: result.version } : {}) };
    if (body) sendScim(ctx, 200, result.resource, headers);
    else sendScim(ctx, 204, undefined, headers);
  });

  router.delete('/:endpoint/:id', async (ctx) => {
    const rt = resourceType(ctx);
    await resources.delete({
      resourceType: rt,
      id: String(ctx.params.id),
      precondition: precondition(ctx),
      ctx: context(ctx),
    });
    sendScim(ctx, 204, undefined);
  });
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

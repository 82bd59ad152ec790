/**
 * Resource endpoints for every mapped resource type (RFC 7644 §3.2–3.6): /Users, /Groups, ...
 * Endpoint names match case-insensitively (Entra sends /users) and with a trailing slash.
 */
import { parse as parseQueryString } from 'node:querystring';
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import type { Principal } from '../../auth/tokens.ts';
import { ScimError } from '../../scim/errors.ts';
import { type Projection, parseAttributeList } from '../../scim/projection.ts';
import {
  findResourceTypeByEndpoint,
  type MappingSet,
  type ResourceType,
} from '../../services/resource-types.ts';
import type { ListQuery, RequestContext, ResourceService } from '../../services/resources.ts';
import { parseEtags } from '../../services/resources.ts';
import { baseUrlOf, sendScim } from '../respond.ts';

export interface ResourceRoutesDeps {
  resources: ResourceService;
  mappings: () => MappingSet;
  basePath: string;
  publicBaseUrl?: string;
}

const SEARCH_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

export function registerResourceRoutes(router: Router, deps: ResourceRoutesDeps): void {
  const { resources } = deps;
  const resourceType = (ctx: Context): ResourceType => {
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
    sendScim(ctx, 200, await resources.listAll(listQueryFromSearchRequest(ctx.state.body), context(ctx)));
  });
  router.get('/', async (ctx) => {
    ctx.state.routeName = 'GET /';
    sendScim(ctx, 200, await resources.listAll(listQueryFromUrl(urlQuery(ctx)), context(ctx)));
  });

  router.get('/:endpoint', async (ctx) => {
    const rt = resourceType(ctx);
    const result = await resources.list(rt, listQueryFromUrl(urlQuery(ctx)), context(ctx));
    sendScim(ctx, 200, result);
  });

  router.post('/:endpoint/.search', async (ctx) => {
    const rt = resourceType(ctx);
    ctx.state.routeName = `POST ${rt.endpoint}/.search`;
    const result = await resources.list(rt, listQueryFromSearchRequest(ctx.state.body), context(ctx));
    sendScim(ctx, 200, result);
  });

  router.post('/:endpoint', async (ctx) => {
    const rt = resourceType(ctx);
    const result = await resources.create(rt, requireBody(ctx), context(ctx));
    sendScim(ctx, 201, result.resource, {
      location: result.location,
      ...(result.version ? { etag: result.version } : {}),
    });
  });

  router.get('/:endpoint/:id', async (ctx) => {
    const rt = resourceType(ctx);
    const result = await resources.get(
      rt,
      String(ctx.params.id),
      projectionFromUrl(urlQuery(ctx)),
      context(ctx),
    );
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
    const result = await resources.replace(
      rt,
      String(ctx.params.id),
      requireBody(ctx),
      context(ctx),
      precondition(ctx),
      {
        projection: projectionFromUrl(urlQuery(ctx)),
      },
    );
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
    const result = await resources.patch(
      rt,
      String(ctx.params.id),
      requireBody(ctx),
      context(ctx),
      precondition(ctx),
      {
        projection,
        body,
      },
    );
    const headers = { location: result.location, ...(result.version ? { etag: result.version } : {}) };
    if (body) sendScim(ctx, 200, result.resource, headers);
    else sendScim(ctx, 204, undefined, headers);
  });

  router.delete('/:endpoint/:id', async (ctx) => {
    const rt = resourceType(ctx);
    await resources.delete(rt, String(ctx.params.id), precondition(ctx), context(ctx));
    sendScim(ctx, 204, undefined);
  });
}

function requireBody(ctx: Context): unknown {
  const body = ctx.state.body as unknown;
  if (body === undefined) throw ScimError.invalidSyntax('a JSON request body is required');
  return body;
}

function precondition(ctx: Context): { ifMatch?: string } {
  const ifMatch = ctx.get('If-Match');
  return ifMatch ? { ifMatch } : {};
}

function matchesEtag(header: string, version: string): boolean {
  if (header.trim() === '*') return true;
  const wanted = parseEtags(version)[0];
  return parseEtags(header).some((tag) => tag === wanted);
}

/** A query string's parameters by lower-cased name, each with every value given. */
export type QueryParameters = ReadonlyMap<string, readonly string[]>;

/**
 * Parameter names are case-insensitive in practice (Okta sends startIndex, some clients
 * startindex), so they are keyed in lower case: `count=1&Count=2` gives count twice.
 */
export function queryParameters(querystring: string): QueryParameters {
  const parameters = new Map<string, string[]>();
  if (querystring === '') return parameters;
  const parsed = parseQueryString(querystring);
  for (const name in parsed) {
    const value = parsed[name];
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const values = parameters.get(key);
    if (values) values.push(...(typeof value === 'string' ? [value] : value));
    else parameters.set(key, typeof value === 'string' ? [value] : [...value]);
  }
  return parameters;
}

function single(query: QueryParameters, name: string): string | undefined {
  const values = query.get(name.toLowerCase());
  if (values && values.length > 1) {
    throw ScimError.invalidValue(`query parameter ${name} was given more than once`);
  }
  return values?.[0];
}

function integerParam(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n) || !Number.isInteger(n))
    throw ScimError.invalidValue(`${name} must be an integer, got ${JSON.stringify(value)}`);
  return n;
}

export function projectionFromUrl(query: QueryParameters): Projection {
  const attributes = parseAttributeList(single(query, 'attributes'), 'attributes');
  const excludedAttributes = parseAttributeList(single(query, 'excludedAttributes'), 'excludedAttributes');
  return { ...(attributes ? { attributes } : {}), ...(excludedAttributes ? { excludedAttributes } : {}) };
}

export function listQueryFromUrl(query: QueryParameters): ListQuery {
  const out: ListQuery = projectionFromUrl(query);
  const filter = single(query, 'filter');
  if (filter !== undefined) out.filter = filter;
  const startIndex = integerParam(single(query, 'startIndex'), 'startIndex');
  if (startIndex !== undefined) out.startIndex = startIndex;
  const count = integerParam(single(query, 'count'), 'count');
  if (count !== undefined) out.count = count;
  const cursor = single(query, 'cursor');
  if (cursor !== undefined) out.cursor = cursor;
  const sortBy = single(query, 'sortBy');
  if (sortBy) out.sortBy = sortBy;
  const sortOrder = single(query, 'sortOrder');
  if (sortOrder) out.sortOrder = sortOrderOf(sortOrder);
  return out;
}

function sortOrderOf(value: unknown): 'ascending' | 'descending' {
  const v = String(value).toLowerCase();
  if (v === 'ascending' || v === 'descending') return v;
  throw ScimError.invalidValue(`sortOrder must be "ascending" or "descending", got ${JSON.stringify(value)}`);
}

/** RFC 7644 §3.4.3: the same query as a POST body. */
export function listQueryFromSearchRequest(body: unknown): ListQuery {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw ScimError.invalidSyntax('a SearchRequest object is required');
  const request = body as Record<string, unknown>;
  const schemas = request.schemas;
  if (!Array.isArray(schemas) || !schemas.includes(SEARCH_REQUEST_SCHEMA)) {
    throw ScimError.invalidSyntax(`schemas must contain ${SEARCH_REQUEST_SCHEMA}`);
  }
  const out: ListQuery = {};
  const attributes = parseAttributeList(request.attributes, 'attributes');
  if (attributes) out.attributes = attributes;
  const excluded = parseAttributeList(request.excludedAttributes, 'excludedAttributes');
  if (excluded) out.excludedAttributes = excluded;
  if (request.filter !== undefined) {
    if (typeof request.filter !== 'string') throw ScimError.invalidValue('filter must be a string');
    out.filter = request.filter;
  }
  const startIndex = integerParam(request.startIndex, 'startIndex');
  if (startIndex !== undefined) out.startIndex = startIndex;
  const count = integerParam(request.count, 'count');
  if (count !== undefined) out.count = count;
  if (request.sortBy !== undefined) {
    if (typeof request.sortBy !== 'string') throw ScimError.invalidValue('sortBy must be a string');
    out.sortBy = request.sortBy;
  }
  if (request.sortOrder !== undefined) out.sortOrder = sortOrderOf(request.sortOrder);
  if (request.cursor !== undefined) {
    if (typeof request.cursor !== 'string') throw ScimError.invalidValue('cursor must be a string');
    out.cursor = request.cursor;
  }
  return out;
}

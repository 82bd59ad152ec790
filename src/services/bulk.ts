/**
 * Bulk (RFC 7644 §3.7): operations applied in order, each through the same use cases as a single
 * request; `bulkId:<id>` references resolved to the ids created earlier in the same request;
 * failOnErrors stops processing after that many errors.
 */
import { findResourceTypeByEndpoint, type MappingSet } from '../mapping/compiled.ts';
import { ScimError } from '../scim/errors.ts';
import type { Precondition, RequestContext, ResourceService } from './resources.ts';

export const BULK_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

export interface BulkLimits {
  maxOperations: number;
}

interface BulkOperationRequest {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  bulkId?: string;
  version?: string;
  path: string;
  data?: unknown;
}

export interface BulkOperationResult {
  method: string;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: unknown;
}

const METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function executeBulk(
  body: unknown,
  resources: ResourceService,
  mappings: MappingSet,
  limits: BulkLimits,
  ctx: RequestContext,
): Promise<{ schemas: [string]; Operations: BulkOperationResult[] }> {
  const request = parseBulkRequest(body, limits);
  const created = new Map<string, string>();
  const results: BulkOperationResult[] = [];
  let errors = 0;
  for (const [index, operation] of request.operations.entries()) {
    if (request.failOnErrors !== undefined && errors >= request.failOnErrors) break;
    const result = await executeOne(operation, index, resources, mappings, created, ctx);
    if (Number(result.status) >= 400) errors++;
    results.push(result);
  }
  return { schemas: [BULK_RESPONSE_SCHEMA], Operations: results };
}

function parseBulkRequest(
  body: unknown,
  limits: BulkLimits,
): { failOnErrors?: number; operations: BulkOperationRequest[] } {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw ScimError.invalidSyntax('a BulkRequest object is required');
  const request = body as Record<string, unknown>;
  const schemas = request.schemas;
  if (!Array.isArray(schemas) || !schemas.includes(BULK_REQUEST_SCHEMA)) {
    throw ScimError.invalidSyntax(`schemas must contain ${BULK_REQUEST_SCHEMA}`);
  }
  const failOnErrors = request.failOnErrors;
  if (
    failOnErrors !== undefined &&
    (typeof failOnErrors !== 'number' || !Number.isInteger(failOnErrors) || failOnErrors < 1)
  ) {
    throw ScimError.invalidValue('failOnErrors must be a positive integer');
  }
  const operations = request.Operations;
  if (!Array.isArray(operations) || operations.length === 0)
    throw ScimError.invalidSyntax('Operations must be a non-empty array');
  // RFC 7644 §3.7.4: more operations than maxOperations -> 413.
  if (operations.length > limits.maxOperations) {
    throw ScimError.payloadTooLarge(
      `the request has ${operations.length} operations; maxOperations is ${limits.maxOperations}`,
    );
  }
  const parsed = operations.map((op, i): BulkOperationRequest => {
    if (!op || typeof op !== 'object' || Array.isArray(op))
      throw ScimError.invalidSyntax(`Operations[${i}] must be an object`);
    const o = op as Record<string, unknown>;
    const method = typeof o.method === 'string' ? o.method.toUpperCase() : '';
    if (!METHODS.has(method))
      throw ScimError.invalidValue(`Operations[${i}].method must be POST, PUT, PATCH or DELETE`);
    if (typeof o.path !== 'string' || !o.path.startsWith('/'))
      throw ScimError.invalidValue(`Operations[${i}].path must be a path such as /Users`);
    if (method === 'POST' && (typeof o.bulkId !== 'string' || o.bulkId === '')) {
      throw ScimError.invalidValue(`Operations[${i}].bulkId is required for POST (RFC 7644 §3.7)`);
    }
    if ((method === 'POST' || method === 'PUT' || method === 'PATCH') && o.data === undefined) {
      throw ScimError.invalidValue(`Operations[${i}].data is required for ${method}`);
    }
    return {
      method: method as BulkOperationRequest['method'],
      path: o.path,
      ...(typeof o.bulkId === 'string' ? { bulkId: o.bulkId } : {}),
      ...(typeof o.version === 'string' ? { version: o.version } : {}),
      ...(o.data !== undefined ? { data: o.data } : {}),
    };
  });
  const ids = parsed.flatMap((p) => (p.bulkId ? [p.bulkId] : []));
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw ScimError.invalidValue(`bulkId "${duplicate}" is used by more than one operation`);
  return { ...(typeof failOnErrors === 'number' ? { failOnErrors } : {}), operations: parsed };
}

async function executeOne(
  operation: BulkOperationRequest,
  index: number,
  resources: ResourceService,
  mappings: MappingSet,
  created: Map<string, string>,
  ctx: RequestContext,
): Promise<BulkOperationResult> {
  const base = {
    method: operation.method,
    ...(operation.bulkId ? { bulkId: operation.bulkId } : {}),
    ...(operation.version ? { version: operation.version } : {}),
  };
  try {
    const path = operation.path.replace(/bulkId:([^/]+)/g, (_, bulkId: string) =>
      createdId(created, bulkId, `Operations[${index}].path`),
    );
    const data =
      operation.data === undefined
        ? undefined
        : resolveBulkIds(operation.data, created, `Operations[${index}].data`);
    const [, endpoint = '', id, ...rest] = path.split('/');
    const rt = findResourceTypeByEndpoint(mappings, endpoint);
    if (!rt || rest.length > 0)
      throw ScimError.invalidPath(`Operations[${index}].path "${operation.path}" is not a resource path`);
    const precondition: Precondition = operation.version ? { ifMatch: operation.version } : {};
    if (operation.method === 'POST') {
      if (id !== undefined)
        throw ScimError.invalidPath(`Operations[${index}]: POST goes to a resource type, e.g. /Users`);
      const result = await resources.create(rt, data, ctx);
      const newId = String(result.resource.id);
      if (operation.bulkId) created.set(operation.bulkId, newId);
      return {
        ...base,
        location: result.location,
        ...(result.version ? { version: result.version } : {}),
        status: '201',
      };
    }
    if (!id)
      throw ScimError.invalidPath(
        `Operations[${index}]: ${operation.method} needs a resource id in the path`,
      );
    if (operation.method === 'DELETE') {
      await resources.delete(rt, id, precondition, ctx);
      return { ...base, location: `${ctx.baseUrl}${rt.endpoint}/${id}`, status: '204' };
    }
    const result =
      operation.method === 'PUT'
        ? await resources.replace(rt, id, data, ctx, precondition)
        : await resources.patch(rt, id, data, ctx, precondition);
    return {
      ...base,
      location: result.location,
      ...(result.version ? { version: result.version } : {}),
      status: '200',
    };
  } catch (error) {
    // Client errors and an unavailable directory are per-operation results; bugs (500) end the request.
    if (!(error instanceof ScimError) || error.status === 500) throw error;
    return { ...base, status: String(error.status), response: error.toBody() };
  }
}

function createdId(created: Map<string, string>, bulkId: string, where: string): string {
  const id = created.get(bulkId);
  if (!id)
    throw ScimError.invalidValue(
      `${where}: bulkId "${bulkId}" does not name a resource created earlier in this request`,
    );
  return id;
}

/** Replaces values that are exactly "bulkId:<id>" (RFC 7644 §3.7.2) with the ids created earlier. */
function resolveBulkIds(value: unknown, created: Map<string, string>, where: string): unknown {
  if (typeof value === 'string') {
    const match = /^bulkId:(.+)$/.exec(value);
    return match ? createdId(created, match[1]!, where) : value;
  }
  if (Array.isArray(value)) return value.map((v) => resolveBulkIds(v, created, where));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveBulkIds(v, created, where)]));
  }
  return value;
}

/**
 * Bulk (RFC 7644 §3.7): operations applied in order, each through the same use cases as a single
 * request; `bulkId:<id>` references resolved to the ids created earlier in the same request;
 * failOnErrors stops processing after that many errors. The message itself is parsed by
 * src/scim/bulk-request.ts.
 */
import { findResourceTypeByEndpoint, type MappingSet } from '../mapping/compiled.ts';
import {
  BULK_RESPONSE_SCHEMA,
  type BulkLimits,
  type BulkOperationRequest,
  type BulkOperationResult,
  parseBulkRequest,
  resolveBulkIds,
  resolveBulkIdsInPath,
} from '../scim/bulk-request.ts';
import { ScimError } from '../scim/errors.ts';
import type { Precondition, RequestContext } from './resources/context.ts';
import type { ResourceService } from './resources/service.ts';

/**
 * Whether the client may perform one operation (its scopes, decided by the HTTP layer): throws
 * the ScimError (403) that becomes that operation's result; the others still run.
 */
export type BulkOperationGate = (endpoint: string, method: string) => void;

export async function executeBulk(
  body: unknown,
  resources: ResourceService,
  mappings: MappingSet,
  limits: BulkLimits,
  ctx: RequestContext,
  gate: BulkOperationGate = () => undefined,
): Promise<{ schemas: [string]; Operations: BulkOperationResult[] }> {
  const request = parseBulkRequest(body, limits);
  const created = new Map<string, string>();
  const results: BulkOperationResult[] = [];
  let errors = 0;
  for (const [index, operation] of request.operations.entries()) {
    if (request.failOnErrors !== undefined && errors >= request.failOnErrors) break;
    const result = await executeOne(operation, index, { resources, mappings, created, ctx, gate });
    if (Number(result.status) >= 400) errors++;
    results.push(result);
  }
  return { schemas: [BULK_RESPONSE_SCHEMA], Operations: results };
}

interface BulkRun {
  resources: ResourceService;
  mappings: MappingSet;
  /** bulkId -> id of the resource its POST created. */
  created: Map<string, string>;
  ctx: RequestContext;
  gate: BulkOperationGate;
}

async function executeOne(
  operation: BulkOperationRequest,
  index: number,
  run: BulkRun,
): Promise<BulkOperationResult> {
  const base = {
    method: operation.method,
    ...(operation.bulkId ? { bulkId: operation.bulkId } : {}),
    ...(operation.version ? { version: operation.version } : {}),
  };
  try {
    return { ...base, ...(await perform(operation, index, run)) };
  } catch (error) {
    // Client errors and an unavailable directory are per-operation results; bugs (500) end the request.
    if (!(error instanceof ScimError) || error.status === 500) throw error;
    return { ...base, status: String(error.status), response: error.toBody() };
  }
}

async function perform(
  operation: BulkOperationRequest,
  index: number,
  run: BulkRun,
): Promise<{ location: string; version?: string; status: string }> {
  const { resources, created, ctx } = run;
  const path = resolveBulkIdsInPath(operation.path, created, `Operations[${index}].path`);
  const body =
    operation.data === undefined
      ? undefined
      : resolveBulkIds(operation.data, created, `Operations[${index}].data`);
  const [, endpoint = '', id, ...rest] = path.split('/');
  const resourceType = findResourceTypeByEndpoint(run.mappings, endpoint);
  if (!resourceType || rest.length > 0)
    throw ScimError.invalidPath(`Operations[${index}].path "${operation.path}" is not a resource path`);
  run.gate(resourceType.endpoint, operation.method);
  const precondition: Precondition = operation.version ? { ifMatch: operation.version } : {};
  if (operation.method === 'POST') {
    if (id !== undefined)
      throw ScimError.invalidPath(`Operations[${index}]: POST goes to a resource type, e.g. /Users`);
    const result = await resources.create({ resourceType, body, ctx });
    if (operation.bulkId) created.set(operation.bulkId, String(result.resource.id));
    return {
      location: result.location,
      ...(result.version ? { version: result.version } : {}),
      status: '201',
    };
  }
  if (!id)
    throw ScimError.invalidPath(`Operations[${index}]: ${operation.method} needs a resource id in the path`);
  if (operation.method === 'DELETE') {
    await resources.delete({ resourceType, id, precondition, ctx });
    return { location: `${ctx.baseUrl}${resourceType.endpoint}/${id}`, status: '204' };
  }
  const request = { resourceType, id, body, precondition, ctx };
  const result =
    operation.method === 'PUT' ? await resources.replace(request) : await resources.patch(request);
  return { location: result.location, ...(result.version ? { version: result.version } : {}), status: '200' };
}

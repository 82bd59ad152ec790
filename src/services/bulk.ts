/**
 * Bulk (RFC 7644 §3.7): operations applied in order, each through the same use cases as a single
 * request; `bulkId:<id>` references resolved to the ids created earlier in the same request;
 * failOnErrors stops processing after that many errors. The message itself is parsed by
 * src/scim/bulk-request.ts.
 */
import {
  type CompiledResourceType,
  findResourceTypeByEndpoint,
  type MappingSet,
} from '../mapping/compiled.ts';
import {
  BULK_RESPONSE_SCHEMA,
  type BulkIdResolver,
  type BulkLimits,
  type BulkOperationRequest,
  type BulkOperationResult,
  bulkIdResolver,
  parseBulkRequest,
  type ReferenceAttribute,
  resolveBulkIdsInPath,
  resolveBulkReferences,
} from '../scim/bulk-request.ts';
import { ScimError } from '../scim/errors.ts';
import type { Precondition, RequestContext } from './resources/context.ts';
import type { ResourceService } from './resources/service.ts';

/**
 * Whether the client may perform one operation (its scopes, decided by the HTTP layer): throws
 * the ScimError (403) that becomes that operation's result; the others still run.
 */
export type BulkOperationGate = (endpoint: string, method: string) => void;

/** What the caller hooks into a Bulk run: the log of unexpected failures, the scope check. */
export interface BulkHooks {
  onUnexpected?: (error: unknown, index: number) => void;
  gate?: BulkOperationGate;
}

export async function executeBulk(
  body: unknown,
  resources: ResourceService,
  mappings: MappingSet,
  limits: BulkLimits,
  ctx: RequestContext,
  hooks: BulkHooks = {},
): Promise<{ schemas: [string]; Operations: BulkOperationResult[] }> {
  const request = parseBulkRequest(body, limits);
  const created = new Map<string, string>();
  const declared = new Set(request.operations.flatMap((o) => (o.bulkId ? [o.bulkId] : [])));
  const resolve = bulkIdResolver(created, declared);
  const results: BulkOperationResult[] = [];
  let errors = 0;
  for (const [index, operation] of request.operations.entries()) {
    if (request.failOnErrors !== undefined && errors >= request.failOnErrors) break;
    const run = {
      resources,
      mappings,
      created,
      resolve,
      ctx,
      onUnexpected: hooks.onUnexpected ?? (() => {}),
      gate: hooks.gate ?? (() => undefined),
    };
    const result = await executeOne(operation, index, run);
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
  resolve: BulkIdResolver;
  ctx: RequestContext;
  /** A failure that is not the client's (a bug): reported for the log, answered as this operation's 500. */
  onUnexpected: (error: unknown, index: number) => void;
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
    // Every failure is this operation's own result (RFC 7644 §3.7.3): the operations before it were
    // committed and the client must see which. A bug is logged and answered as this operation's 500.
    if (error instanceof ScimError)
      return { ...base, status: String(error.status), response: error.toBody() };
    run.onUnexpected(error, index);
    const internal = ScimError.internal(
      `internal error in Operations[${index}]; the operations before it were applied`,
    );
    return { ...base, status: '500', response: internal.toBody() };
  }
}

async function perform(
  operation: BulkOperationRequest,
  index: number,
  run: BulkRun,
): Promise<{ location: string; version?: string; status: string }> {
  const { resources, created, ctx } = run;
  const path = resolveBulkIdsInPath(operation.path, run.resolve, `Operations[${index}].path`);
  const [, endpoint = '', id, ...rest] = path.split('/');
  const resourceType = findResourceTypeByEndpoint(run.mappings, endpoint);
  if (!resourceType || rest.length > 0)
    throw ScimError.invalidPath(`Operations[${index}].path "${operation.path}" is not a resource path`);
  run.gate(resourceType.endpoint, operation.method);
  const body =
    operation.data === undefined
      ? undefined
      : resolveBulkReferences(
          operation.method,
          operation.data,
          referenceAttributes(resourceType),
          run.resolve,
          `Operations[${index}].data`,
        );
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

/** The attributes of a resource type that hold references and may be written (RFC 7644 §3.7.2). */
function referenceAttributes(rt: CompiledResourceType): ReferenceAttribute[] {
  return rt.rules
    .filter((rule) => rule.references !== undefined && !rule.readOnly)
    .map((rule) => ({
      schema: rule.schema,
      core: rule.isCore,
      attribute: rule.attribute,
      ...(rule.subAttribute ? { subAttribute: rule.subAttribute } : {}),
    }));
}

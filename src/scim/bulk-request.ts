/**
 * The BulkRequest message (RFC 7644 §3.7): parsing and validation, and the `bulkId:<id>`
 * references (§3.7.2) resolved against the ids created earlier in the same request. Executing
 * the operations is a use case (src/services/bulk.ts).
 */
import { ScimError } from './errors.ts';
import { isPlainObject } from './resource.ts';
import { sameUrn } from './schema-defs.ts';

export const BULK_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

export interface BulkLimits {
  maxOperations: number;
}

export interface BulkOperationRequest {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  bulkId?: string;
  version?: string;
  path: string;
  data?: unknown;
}

export interface BulkRequest {
  failOnErrors?: number;
  operations: BulkOperationRequest[];
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

export function parseBulkRequest(body: unknown, limits: BulkLimits): BulkRequest {
  if (!isPlainObject(body)) throw ScimError.invalidSyntax('a BulkRequest object is required');
  const schemas = body.schemas;
  if (
    !Array.isArray(schemas) ||
    !schemas.some((s) => typeof s === 'string' && sameUrn(s, BULK_REQUEST_SCHEMA))
  ) {
    throw ScimError.invalidSyntax(`schemas must contain ${BULK_REQUEST_SCHEMA}`);
  }
  const failOnErrors = body.failOnErrors;
  if (
    failOnErrors !== undefined &&
    (typeof failOnErrors !== 'number' || !Number.isInteger(failOnErrors) || failOnErrors < 1)
  ) {
    throw ScimError.invalidValue('failOnErrors must be a positive integer');
  }
  const operations = body.Operations;
  if (!Array.isArray(operations) || operations.length === 0)
    throw ScimError.invalidSyntax('Operations must be a non-empty array');
  // RFC 7644 §3.7.4: more operations than maxOperations -> 413.
  if (operations.length > limits.maxOperations) {
    throw ScimError.payloadTooLarge(
      `the request has ${operations.length} operations; maxOperations is ${limits.maxOperations}`,
    );
  }
  const parsed = operations.map(parseOperation);
  const ids = parsed.flatMap((p) => (p.bulkId ? [p.bulkId] : []));
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw ScimError.invalidValue(`bulkId "${duplicate}" is used by more than one operation`);
  return { ...(typeof failOnErrors === 'number' ? { failOnErrors } : {}), operations: parsed };
}

function parseOperation(op: unknown, i: number): BulkOperationRequest {
  if (!isPlainObject(op)) throw ScimError.invalidSyntax(`Operations[${i}] must be an object`);
  const method = typeof op.method === 'string' ? op.method.toUpperCase() : '';
  if (!METHODS.has(method))
    throw ScimError.invalidValue(`Operations[${i}].method must be POST, PUT, PATCH or DELETE`);
  if (typeof op.path !== 'string' || !op.path.startsWith('/'))
    throw ScimError.invalidValue(`Operations[${i}].path must be a path such as /Users`);
  if (method === 'POST' && (typeof op.bulkId !== 'string' || op.bulkId === '')) {
    throw ScimError.invalidValue(`Operations[${i}].bulkId is required for POST (RFC 7644 §3.7)`);
  }
  if ((method === 'POST' || method === 'PUT' || method === 'PATCH') && op.data === undefined) {
    throw ScimError.invalidValue(`Operations[${i}].data is required for ${method}`);
  }
  return {
    method: method as BulkOperationRequest['method'],
    path: op.path,
    ...(typeof op.bulkId === 'string' ? { bulkId: op.bulkId } : {}),
    ...(typeof op.version === 'string' ? { version: op.version } : {}),
    ...(op.data !== undefined ? { data: op.data } : {}),
  };
}

/** The id created by the operation with this bulkId earlier in the request. */
export function createdId(created: ReadonlyMap<string, string>, bulkId: string, where: string): string {
  const id = created.get(bulkId);
  if (!id)
    throw ScimError.invalidValue(
      `${where}: bulkId "${bulkId}" does not name a resource created earlier in this request`,
    );
  return id;
}

/** `/Groups/bulkId:g1` -> `/Groups/<id created for g1>`. */
export function resolveBulkIdsInPath(
  path: string,
  created: ReadonlyMap<string, string>,
  where: string,
): string {
  return path.replace(/bulkId:([^/]+)/g, (_, bulkId: string) => createdId(created, bulkId, where));
}

/** Replaces values that are exactly "bulkId:<id>" (RFC 7644 §3.7.2) with the ids created earlier. */
export function resolveBulkIds(value: unknown, created: ReadonlyMap<string, string>, where: string): unknown {
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

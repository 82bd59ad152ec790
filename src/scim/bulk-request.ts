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

/**
 * Turns `bulkId:<id>` into the id the operation with that bulkId created (RFC 7644 §3.7.2). A
 * bulkId no operation of the request declares is the client's mistake (400); one declared but not
 * created (the operation itself, a later one, or one that failed) cannot be resolved in order:
 * 409, as RFC 7644 §3.7.3 answers circular references.
 */
export type BulkIdResolver = (bulkId: string, where: string) => string;

export function bulkIdResolver(
  created: ReadonlyMap<string, string>,
  declared: ReadonlySet<string>,
): BulkIdResolver {
  return (bulkId, where) => {
    const id = created.get(bulkId);
    if (id) return id;
    if (declared.has(bulkId)) {
      throw ScimError.conflict(
        `${where}: bulkId "${bulkId}" names a resource not created before this operation (a circular or forward reference, or its operation failed); RFC 7644 §3.7.3`,
      );
    }
    throw ScimError.invalidValue(
      `${where}: bulkId "${bulkId}" is not the bulkId of any operation in this request`,
    );
  };
}

/** `/Groups/bulkId:g1` -> `/Groups/<id created for g1>`. */
export function resolveBulkIdsInPath(path: string, resolve: BulkIdResolver, where: string): string {
  return path.replace(/bulkId:([^/]+)/g, (_, bulkId: string) => resolve(bulkId, where));
}

/**
 * An attribute that holds references (RFC 7643 §7 `reference`), where a `bulkId:` value may stand
 * for a resource created earlier in the request: `members.value`, the enterprise `manager.value`.
 */
export interface ReferenceAttribute {
  /** Schema URN; `core` when the attribute sits at the top level of the resource. */
  schema: string;
  core: boolean;
  attribute: string;
  /** The sub-attribute holding the id (`value`); absent: the attribute itself. */
  subAttribute?: string;
}

const BULK_ID = /^bulkId:(.+)$/;

/**
 * The operation's data with `bulkId:` resolved in reference attributes only (RFC 7644 §3.7.2): a
 * userName or title that reads `bulkId:x` is data and stays as sent. Only the known shapes are
 * visited (resource → attribute → element → sub-attribute; PATCH operation → value), never an
 * arbitrary walk over client JSON.
 */
export function resolveBulkReferences(
  method: BulkOperationRequest['method'],
  data: unknown,
  references: readonly ReferenceAttribute[],
  resolve: BulkIdResolver,
  where: string,
): unknown {
  if (references.length === 0 || !isPlainObject(data)) return data;
  if (method !== 'PATCH') return inResource(data, references, resolve, where);
  const operations = data.Operations;
  if (!Array.isArray(operations)) return data;
  return {
    ...data,
    Operations: operations.map((op, i) =>
      isPlainObject(op) ? inPatchOperation(op, references, resolve, `${where}.Operations[${i}]`) : op,
    ),
  };
}

function inResource(
  resource: Record<string, unknown>,
  references: readonly ReferenceAttribute[],
  resolve: BulkIdResolver,
  where: string,
): Record<string, unknown> {
  let result = resource;
  for (const reference of references) {
    const containerKey = reference.core ? undefined : keyOf(result, reference.schema);
    if (!reference.core && containerKey === undefined) continue;
    const container = containerKey === undefined ? result : result[containerKey];
    if (!isPlainObject(container)) continue;
    const key = keyOf(container, reference.attribute);
    if (key === undefined) continue;
    const resolved = inAttribute(
      container[key],
      reference.subAttribute,
      resolve,
      `${where}.${reference.attribute}`,
    );
    const updated = { ...container, [key]: resolved };
    result = containerKey === undefined ? updated : { ...result, [containerKey]: updated };
  }
  return result;
}

/** An attribute's value: a string, an object with the sub-attribute, or an array of either. */
function inAttribute(
  value: unknown,
  subAttribute: string | undefined,
  resolve: BulkIdResolver,
  where: string,
): unknown {
  if (Array.isArray(value)) return value.map((v) => inAttribute(v, subAttribute, resolve, where));
  if (subAttribute === undefined || !isPlainObject(value)) return inString(value, resolve, where);
  const key = keyOf(value, subAttribute);
  return key === undefined ? value : { ...value, [key]: inString(value[key], resolve, where) };
}

function inString(value: unknown, resolve: BulkIdResolver, where: string): unknown {
  if (typeof value !== 'string') return value;
  const match = BULK_ID.exec(value);
  return match?.[1] ? resolve(match[1], where) : value;
}

/** A PATCH operation (RFC 7644 §3.5.2): its value, read against its path. */
function inPatchOperation(
  op: Record<string, unknown>,
  references: readonly ReferenceAttribute[],
  resolve: BulkIdResolver,
  where: string,
): Record<string, unknown> {
  if (op.value === undefined) return op;
  const at = `${where}.value`;
  if (typeof op.path !== 'string' || op.path.trim() === '') {
    return isPlainObject(op.value) ? { ...op, value: inResource(op.value, references, resolve, at) } : op;
  }
  const path = op.path.trim();
  for (const reference of references) {
    // The whole extension as the path: its value is the extension's object.
    if (!reference.core && sameUrn(path, reference.schema) && isPlainObject(op.value)) {
      return { ...op, value: inResource(op.value, [{ ...reference, core: true }], resolve, at) };
    }
    const local = localPath(path, reference);
    if (local === undefined) continue;
    const [attribute, sub] = local.split('.');
    if (attribute?.toLowerCase() !== reference.attribute.toLowerCase()) continue;
    if (sub === undefined)
      return { ...op, value: inAttribute(op.value, reference.subAttribute, resolve, at) };
    if (reference.subAttribute !== undefined && sub.toLowerCase() === reference.subAttribute.toLowerCase()) {
      return { ...op, value: inAttribute(op.value, undefined, resolve, at) };
    }
  }
  return op;
}

/** The path without its schema URN (`urn:…:User:manager.value` → `manager.value`); undefined: another schema. */
function localPath(path: string, reference: ReferenceAttribute): string | undefined {
  if (path.includes('[')) return undefined; // value filters select existing values; nothing to resolve
  const prefix = `${reference.schema}:`;
  if (path.toLowerCase().startsWith(prefix.toLowerCase())) return path.slice(prefix.length);
  return reference.core && !path.toLowerCase().startsWith('urn:') ? path : undefined;
}

/** The key of `object` that names `name`, case-insensitively (RFC 7643 §2.1). */
function keyOf(object: Record<string, unknown>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(object).find((key) => key.toLowerCase() === lower);
}

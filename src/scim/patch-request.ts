/**
 * The PATCH request message (RFC 7644 §3.5.2): a PatchOp body parsed into operations. Applying
 * them is patch.ts. Decisions where the RFC leaves room:
 * - `op` is case-insensitive (Entra sends `Replace`, `Add`, `Remove`); keys of the body and of
 *   each operation are too (`operations`, `Path`);
 * - a path-less add/replace is split into one operation per attribute of its value; keys may be
 *   `name`, `name.sub`, `urn:...:User:attr` or an extension URI holding an object.
 */
import { forEachInTurns } from '../lib/turns.ts';
import { ScimError } from './errors.ts';
import { parseAttributePath, parsePatchPath } from './filter.ts';
import type { AttributePath, PatchPath } from './filter-ast.ts';
import { isPlainObject, type ResourceShape, type ScimObject } from './resource.ts';
import { STANDARD_SCHEMA_DEFINITIONS, sameUrn, urnMatches } from './schema-defs.ts';
import type { SchemaDefinition } from './schema-types.ts';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export type PatchOp = 'add' | 'remove' | 'replace';

export interface PatchOperation {
  op: PatchOp;
  path?: PatchPath;
  value?: unknown;
}

const OPS: ReadonlySet<string> = new Set(['add', 'remove', 'replace']);

function keyOf(obj: ScimObject, name: string): string | undefined {
  if (Object.hasOwn(obj, name)) return name;
  const lower = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

/** A member of a JSON object by name, case-insensitively (`Operations`, `Path`, `Value`). */
export function property(obj: ScimObject, name: string): unknown {
  const key = keyOf(obj, name);
  return key === undefined ? undefined : obj[key];
}

function withContext(context: string, run: () => PatchPath): PatchPath {
  try {
    return run();
  } catch (err) {
    if (err instanceof ScimError) throw ScimError.invalidPath(`${context}: ${err.message}`);
    throw err;
  }
}

export function keyPath(key: string, context: string): AttributePath {
  return withContext(context, () => ({ path: parseAttributePath(key) })).path;
}

/**
 * Splits a path-less add/replace value (RFC 7644 §3.5.2.1/3: "the target location is the
 * resource itself") into one operation per attribute. `known` tells extension URIs holding an
 * object apart from URN-qualified attribute names.
 */
export function expandPathless(
  op: 'add' | 'replace',
  value: unknown,
  known: readonly SchemaDefinition[],
  context: string,
): PatchOperation[] {
  if (!isPlainObject(value)) {
    throw ScimError.invalidValue(`${context}: without a "path", "value" must be an object of attributes`);
  }
  const out: PatchOperation[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (key.toLowerCase() === 'schemas') continue;
    const container = known.find((s) => urnMatches(key, s.id));
    if (!container) {
      out.push({ op, path: { path: keyPath(key, `${context}: "${key}"`) }, value: v });
      continue;
    }
    if (!isPlainObject(v))
      throw ScimError.invalidValue(`${context}: "${key}" must be an object of attributes`);
    for (const [inner, iv] of extensionAttributes(v, container.id, `${context}: "${key}"`)) {
      const path = keyPath(inner, `${context}: "${key}"."${inner}"`);
      if (path.schema !== undefined) {
        throw ScimError.invalidPath(`${context}: "${inner}" inside "${key}" must not carry a schema URI`);
      }
      out.push({ op, path: { path: { ...path, schema: container.id } }, value: iv });
    }
  }
  return out;
}

/**
 * The attributes of an extension's whole value. Clients build that value complete, with a
 * `schemas` member naming the extension itself (RFC 7643 §3: `schemas` lists the URIs of the
 * object it sits in): that member is accepted and left out; one naming anything else is refused.
 */
export function extensionAttributes(
  value: ScimObject,
  extensionId: string,
  context: string,
): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [key, inner] of Object.entries(value)) {
    if (key.toLowerCase() !== 'schemas') {
      out.push([key, inner]);
      continue;
    }
    const listed = Array.isArray(inner) ? inner : [inner];
    const other = listed.find((s) => typeof s !== 'string' || !sameUrn(s, extensionId));
    if (other !== undefined) {
      throw ScimError.invalidValue(
        `${context}: "schemas" inside the extension's value may name only ${extensionId}, not ${JSON.stringify(other)}`,
      );
    }
  }
  return out;
}

export function knownSchemas(shape: ResourceShape | undefined): readonly SchemaDefinition[] {
  return shape ? [shape.coreSchema, ...shape.extensions.map((e) => e.schema)] : STANDARD_SCHEMA_DEFINITIONS;
}

/**
 * Parses a PATCH body (RFC 7644 §3.5.2). Pass the resource type's shape so path-less values can
 * name its custom extensions; without it the standard User/Group/Enterprise URIs are known.
 * Throws 400 invalidSyntax (shape of the message, unknown op), invalidPath, invalidValue
 * (missing or unusable value), noTarget (remove without path, §3.5.2.2) or tooMany (more than
 * `maxOperations` operations).
 */
export function parsePatchRequest(
  body: unknown,
  shape?: ResourceShape,
  options: { maxOperations?: number } = {},
): PatchOperation[] {
  const operations = operationsOf(body, options);
  const known = knownSchemas(shape);
  const out: PatchOperation[] = [];
  operations.forEach((raw, i) => {
    out.push(...parseOperation(raw, `Operations[${i}]`, known));
  });
  return out;
}

/** `parsePatchRequest` handing the event loop back between chunks of operations (issue 15). */
export async function parsePatchRequestYielding(
  body: unknown,
  shape?: ResourceShape,
  options: { maxOperations?: number } = {},
): Promise<PatchOperation[]> {
  const operations = operationsOf(body, options);
  const known = knownSchemas(shape);
  const out: PatchOperation[] = [];
  await forEachInTurns(operations, (raw, i) => {
    out.push(...parseOperation(raw, `Operations[${i}]`, known));
  });
  return out;
}

/** The message's checks, and its Operations counted before any is read (RFC 7644 §3.12 tooMany). */
function operationsOf(body: unknown, options: { maxOperations?: number }): unknown[] {
  if (!isPlainObject(body)) throw ScimError.invalidSyntax('The PATCH body must be a JSON object');
  const schemas = property(body, 'schemas');
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && sameUrn(s, PATCH_OP_SCHEMA))) {
    throw ScimError.invalidSyntax(`"schemas" must contain ${PATCH_OP_SCHEMA}`);
  }
  const operations = property(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0) {
    throw ScimError.invalidSyntax('"Operations" must be a non-empty array');
  }
  if (options.maxOperations !== undefined && operations.length > options.maxOperations) {
    throw ScimError.tooMany(
      `"Operations" has ${operations.length} operations; at most ${options.maxOperations} are accepted in one PATCH`,
    );
  }
  return operations;
}

/** One element of Operations: one operation, or several for a path-less add/replace. */
function parseOperation(raw: unknown, context: string, known: readonly SchemaDefinition[]): PatchOperation[] {
  if (!isPlainObject(raw)) throw ScimError.invalidSyntax(`${context} must be an object`);
  const opRaw = property(raw, 'op');
  const op = typeof opRaw === 'string' ? opRaw.toLowerCase() : undefined;
  if (op === undefined || !OPS.has(op)) {
    const shown = opRaw === undefined ? 'missing' : JSON.stringify(opRaw);
    throw ScimError.invalidSyntax(`${context}.op must be "add", "remove" or "replace" (it is ${shown})`);
  }
  const pathRaw = property(raw, 'path');
  let path: PatchPath | undefined;
  if (pathRaw !== undefined && pathRaw !== null) {
    if (typeof pathRaw !== 'string') throw ScimError.invalidPath(`${context}.path must be a string`);
    path = withContext(`${context}.path ${JSON.stringify(pathRaw)}`, () => parsePatchPath(pathRaw));
  }
  const valueKey = keyOf(raw, 'value');
  const value = valueKey === undefined ? undefined : raw[valueKey];
  if (op === 'remove') {
    // RFC 7644 §3.5.2.2: "If 'path' is unspecified, the operation fails ... noTarget".
    if (!path) throw ScimError.noTarget(`${context}: "remove" needs a "path"`);
    return [value === undefined ? { op, path } : { op, path, value }];
  }
  // RFC 7644 §3.5.2.1/3: add and replace "MUST contain a 'value' member".
  if (valueKey === undefined) throw ScimError.invalidValue(`${context}: "${op}" needs a "value"`);
  if (path) return [{ op: op as PatchOp, path, value }];
  return expandPathless(op as 'add' | 'replace', value, known, context);
}

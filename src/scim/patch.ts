/**
 * PATCH (RFC 7644 §3.5.2): applying parsed operations to a resource (pure: a new object is
 * returned). Group membership, which the service never reads whole, is taken out of the
 * operations by the services (src/services/resources/membership.ts). The modules, one per seam:
 * - patch-request.ts: the PatchOp body parsed into operations;
 * - patch-target.ts: an operation's path resolved to an attribute, and the readOnly rule;
 * - patch-attribute.ts: add/replace/remove of a whole attribute or one sub-attribute;
 * - patch-filtered.ts: add/replace/remove on a value-filtered path (`emails[type eq "work"]`);
 * - patch-values.ts: the value rules they share (unassigned, same value, merge, primary).
 *
 * Decisions where the RFC leaves room (each repeated where it is implemented):
 * - add/replace with null or [] : add does nothing, replace unassigns (RFC 7643 §2.5);
 * - readOnly attributes may be "set" to the value they already have (Okta sends the `id` in a
 *   group rename); anything else on them is 400 mutability;
 * - unknown attributes in paths are 400 invalidPath (unlike POST/PUT bodies, a path names its
 *   target explicitly); unknown sub-attributes inside a value are ignored as in POST.
 */
import { forEachInTurns } from '../lib/turns.ts';
import { ScimError } from './errors.ts';
import { formatPatchPath } from './filter-ast.ts';
import { applySubAttribute, applyWhole } from './patch-attribute.ts';
import { applyFiltered } from './patch-filtered.ts';
import {
  expandPathless,
  extensionAttributes,
  keyPath,
  knownSchemas,
  type PatchOperation,
} from './patch-request.ts';
import {
  type ApplyState,
  containerOf,
  refuseReadOnlyChange,
  resolvePatchPath,
  wholeExtension,
} from './patch-target.ts';
import { unassigned } from './patch-values.ts';
import { attributeLabel, isPlainObject, type ResourceShape, type ScimObject } from './resource.ts';
import { sameUrn } from './schema-defs.ts';
import type { SchemaDefinition } from './schema-types.ts';

/**
 * Applies parsed operations to a resource in order and returns the new resource; the input is
 * not modified. `resource` is in canonical form (as produced by the mapping layer: schema
 * spelling of names, extensions under their URI). Throws 400 invalidPath, invalidValue,
 * noTarget or mutability; on error nothing is returned, so a PATCH is all-or-nothing (§3.5.2).
 */
export function applyPatch(
  resource: ScimObject,
  operations: readonly PatchOperation[],
  shape: ResourceShape,
): ScimObject {
  const state: ApplyState = { shape, resource: structuredClone(resource), touched: new Map() };
  operations.forEach((operation, i) => {
    applyOperation(state, operation, `Operations[${i}]`);
  });
  return settled(state);
}

/**
 * `applyPatch` for a request's operations: the same result, but the event loop is handed back
 * between chunks of operations, so that a long PATCH never stalls other clients (issue 15). The
 * state is this call's own, so nothing else sees it half-applied.
 */
export async function applyPatchYielding(
  resource: ScimObject,
  operations: readonly PatchOperation[],
  shape: ResourceShape,
): Promise<ScimObject> {
  const state: ApplyState = { shape, resource: structuredClone(resource), touched: new Map() };
  await forEachInTurns(operations, (operation, i) => applyOperation(state, operation, `Operations[${i}]`));
  return settled(state);
}

/** The checks that hold for the end result, not for each step. */
function settled(state: ApplyState): ScimObject {
  checkRequiredKept(state);
  listPresentExtensions(state.resource, state.shape);
  return state.resource;
}

function applyOperation(state: ApplyState, operation: PatchOperation, context: string): void {
  const { op, path } = operation;
  if (!path) {
    if (op === 'remove') throw ScimError.noTarget(`${context}: "remove" needs a "path"`);
    for (const one of expandPathless(op, operation.value, knownSchemas(state.shape), context)) {
      applyOperation(state, one, context);
    }
    return;
  }
  const ext = wholeExtension(state.shape, path);
  if (ext) {
    applyWholeExtension(state, operation, ext, formatPatchPath(path), context);
    return;
  }
  const resolved = resolvePatchPath(state.shape, path, context);
  const { target, sub, shown } = resolved;
  state.touched.set(`${target.schema.id}|${target.def.name}`, target);
  if (target.def.mutability === 'readOnly' || sub?.mutability === 'readOnly') {
    refuseReadOnlyChange(state, resolved, operation, context);
    return;
  }
  const container = containerOf(state, target, op !== 'remove');
  if (!container) return; // remove from an extension the resource does not have: nothing to do
  if (path.valueFilter !== undefined) {
    applyFiltered(container, target, path.valueFilter, sub, operation, shown);
  } else if (sub) {
    applySubAttribute(container, target, sub, operation, shown);
  } else {
    applyWhole(container, target, operation, shown);
  }
}

/** The whole extension object as the path (`"path": "urn:...:enterprise:2.0:User"`). */
function applyWholeExtension(
  state: ApplyState,
  operation: PatchOperation,
  ext: { schema: SchemaDefinition; required: boolean },
  shown: string,
  context: string,
): void {
  const id = ext.schema.id;
  const clear = operation.op === 'remove' || (operation.op === 'replace' && unassigned(operation.value));
  if (clear) {
    clearExtension(state, ext, context);
    return;
  }
  if (!isPlainObject(operation.value)) {
    throw ScimError.invalidValue(`${context}: the value for "${shown}" must be an object of attributes`);
  }
  for (const [inner, value] of extensionAttributes(operation.value, id, `${context}: "${shown}"`)) {
    const path = keyPath(inner, `${context}: "${inner}"`);
    if (path.schema !== undefined)
      throw ScimError.invalidPath(`${context}: "${inner}" must not carry a schema URI`);
    applyOperation(state, { op: operation.op, path: { path: { ...path, schema: id } }, value }, context);
  }
}

/** remove (or replace with nothing) of a whole extension: every attribute in it must allow it. */
function clearExtension(
  state: ApplyState,
  ext: { schema: SchemaDefinition; required: boolean },
  context: string,
): void {
  const id = ext.schema.id;
  if (ext.required) throw ScimError.invalidValue(`${context}: the schema extension ${id} is required`);
  for (const def of ext.schema.attributes) {
    const values = state.resource[id];
    if (
      isPlainObject(values) &&
      !unassigned(values[def.name]) &&
      def.mutability !== 'readWrite' &&
      def.mutability !== 'writeOnly'
    ) {
      throw ScimError.mutability(`${context}: ${id}:${def.name} is ${def.mutability}`);
    }
    state.touched.set(`${id}|${def.name}`, { schema: ext.schema, extension: true, def });
  }
  delete state.resource[id];
}

/** Required attributes may not end up unassigned (RFC 7643 §2.2 "required"). */
function checkRequiredKept(state: ApplyState): void {
  for (const target of state.touched.values()) {
    const { def } = target;
    if (!def.required || def.mutability === 'readOnly') continue;
    const container = target.extension ? state.resource[target.schema.id] : state.resource;
    if (!isPlainObject(container) || unassigned(container[def.name])) {
      throw ScimError.invalidValue(`${attributeLabel(target)} is required and cannot be removed`);
    }
  }
}

/** Extension objects left empty are dropped; `schemas` lists exactly the extensions present. */
function listPresentExtensions(res: ScimObject, shape: ResourceShape): void {
  const schemas = Array.isArray(res.schemas)
    ? ((res.schemas as unknown[]).filter((s) => typeof s === 'string') as string[])
    : undefined;
  for (const { schema } of shape.extensions) {
    const values = res[schema.id];
    const present = isPlainObject(values) && Object.keys(values).length > 0;
    if (!present) delete res[schema.id];
    if (!schemas) continue;
    const at = schemas.findIndex((s) => sameUrn(s, schema.id));
    if (present && at === -1) schemas.push(schema.id);
    if (!present && at !== -1) schemas.splice(at, 1);
  }
  if (schemas) res.schemas = schemas;
}

/**
 * Where a PATCH operation lands (RFC 7644 §3.5.2): its path resolved against the resource type
 * (unknown attributes in paths are 400 invalidPath: unlike POST/PUT bodies, a path names its
 * target explicitly), the object that holds the attribute, and the readOnly rule.
 */
import { ScimError } from './errors.ts';
import type { PatchPath } from './filter-ast.ts';
import { formatPatchPath } from './filter-ast.ts';
import type { PatchOperation } from './patch-request.ts';
import {
  type AttributeTarget,
  isPlainObject,
  type ResourceShape,
  resolveAttribute,
  type ScimObject,
  schemaOf,
  valuesEqual,
} from './resource.ts';
import { findSubAttribute, urnMatches } from './schema-defs.ts';
import type { AttributeDefinition, SchemaDefinition } from './schema-types.ts';

export interface ApplyState {
  shape: ResourceShape;
  resource: ScimObject;
  /** Top-level attributes an operation changed, for the required check at the end. */
  touched: Map<string, AttributeTarget>;
}

/** What a path names: the attribute, the sub-attribute if any, and the path as the client wrote it. */
export interface ResolvedPath {
  target: AttributeTarget;
  sub: AttributeDefinition | undefined;
  shown: string;
}

/** The object holding the target's attribute: the resource, or its extension object (RFC 7643 §3.3). */
export function containerOf(
  state: ApplyState,
  target: AttributeTarget,
  create: boolean,
): ScimObject | undefined {
  if (!target.extension) return state.resource;
  const existing = state.resource[target.schema.id];
  if (isPlainObject(existing)) return existing;
  if (!create) return undefined;
  const created: ScimObject = {};
  state.resource[target.schema.id] = created;
  return created;
}

/** An extension URI used as the whole path (`"path": "urn:...:enterprise:2.0:User"`). */
export function wholeExtension(
  shape: ResourceShape,
  path: PatchPath,
): { schema: SchemaDefinition; required: boolean } | undefined {
  const p = path.path;
  if (p.schema === undefined || p.subAttribute !== undefined || path.valueFilter !== undefined)
    return undefined;
  const urn = `${p.schema}:${p.attribute}`;
  return shape.extensions.find((e) => urnMatches(urn, e.schema.id));
}

/** The attribute (and sub-attribute) a path names, or 400 invalidPath saying what is wrong with it. */
export function resolvePatchPath(shape: ResourceShape, path: PatchPath, context: string): ResolvedPath {
  const shown = formatPatchPath(path);
  const target = resolveAttribute(shape, path.path);
  if (!target) {
    const schemaKnown = path.path.schema === undefined || schemaOf(shape, path.path.schema);
    throw ScimError.invalidPath(
      schemaKnown
        ? `${context}: "${shown}" does not name an attribute of this resource type`
        : `${context}: "${shown}" names a schema this resource type does not have`,
    );
  }
  const { def } = target;
  if (path.valueFilter !== undefined && !def.multiValued) {
    throw ScimError.invalidPath(`${context}: "${shown}": a value filter needs a multi-valued attribute`);
  }
  let sub = target.sub;
  if (path.subAttribute !== undefined) {
    sub = findSubAttribute(def, path.subAttribute);
    if (!sub)
      throw ScimError.invalidPath(
        `${context}: "${shown}": ${def.name} has no sub-attribute "${path.subAttribute}"`,
      );
  }
  return { target, sub, shown };
}

/**
 * RFC 7644 §3.5.2: a client MUST NOT modify readOnly attributes. Setting one to the value it
 * already has is accepted as a no-op (Okta repeats the `id` in path-less replaces); anything else
 * is 400 mutability.
 */
export function refuseReadOnlyChange(
  state: ApplyState,
  resolved: ResolvedPath,
  operation: PatchOperation,
  context: string,
): void {
  const { target, sub, shown } = resolved;
  const container = containerOf(state, target, false);
  let current: unknown = container?.[target.def.name];
  if (sub) current = isPlainObject(current) ? current[sub.name] : undefined;
  const comparable = sub ?? target.def;
  if (
    operation.op === 'remove' ||
    operation.path?.valueFilter !== undefined ||
    !valuesEqual(comparable, current, operation.value)
  ) {
    throw ScimError.mutability(`${context}: "${shown}" is readOnly`);
  }
}

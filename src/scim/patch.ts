/**
 * PATCH (RFC 7644 §3.5.2): parsing a PatchOp body into operations, applying them to a resource
 * (pure: a new object is returned). Group membership, which the service never reads whole, is
 * taken out of the operations by the services (src/services/resources/membership.ts).
 *
 * Decisions where the RFC leaves room (each repeated where it is implemented):
 * - `op` is case-insensitive (Entra sends `Replace`, `Add`, `Remove`); keys of the body and of
 *   each operation are too (`operations`, `Path`);
 * - a path-less add/replace is split into one operation per attribute of its value; keys may be
 *   `name`, `name.sub`, `urn:...:User:attr` or an extension URI holding an object;
 * - remove with a value filter that matches nothing, or of an attribute that has no value, is a
 *   successful no-op (idempotent retries); replace with a filter that matches nothing is
 *   400 noTarget (§3.5.2.3) unless the filter is a plain `sub eq literal` conjunction, in which
 *   case (add and replace alike) the value is created from it (Entra's
 *   `emails[type eq "work"].value` on a user without a work email);
 * - add/replace with null or [] : add does nothing, replace unassigns (RFC 7643 §2.5);
 * - readOnly attributes may be "set" to the value they already have (Okta sends the `id` in a
 *   group rename); anything else on them is 400 mutability;
 * - unknown attributes in paths are 400 invalidPath (unlike POST/PUT bodies, a path names its
 *   target explicitly); unknown sub-attributes inside a value are ignored as in POST.
 */
import { ScimError } from './errors.ts';
import { parseAttributePath, parsePatchPath } from './filter.ts';
import type { AttributePath, FilterNode, PatchPath } from './filter-ast.ts';
import { formatPatchPath } from './filter-ast.ts';
import { matchesValue } from './filter-eval.ts';
import {
  type AttributeTarget,
  attributeLabel,
  checkOnePrimary,
  checkRequiredSubAttributes,
  coerceSingle,
  coerceValue,
  isPlainObject,
  type ResourceShape,
  resolveAttribute,
  type ScimObject,
  schemaOf,
  valuesEqual,
} from './resource.ts';
import { findSubAttribute, STANDARD_SCHEMA_DEFINITIONS, sameUrn, urnMatches } from './schema-defs.ts';
import type { AttributeDefinition, SchemaDefinition } from './schema-types.ts';

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

function keyPath(key: string, context: string): AttributePath {
  return withContext(context, () => ({ path: parseAttributePath(key) })).path;
}

/**
 * Splits a path-less add/replace value (RFC 7644 §3.5.2.1/3: "the target location is the
 * resource itself") into one operation per attribute. `known` tells extension URIs holding an
 * object apart from URN-qualified attribute names.
 */
function expandPathless(
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
    for (const [inner, iv] of Object.entries(v)) {
      const path = keyPath(inner, `${context}: "${key}"."${inner}"`);
      if (path.schema !== undefined) {
        throw ScimError.invalidPath(`${context}: "${inner}" inside "${key}" must not carry a schema URI`);
      }
      out.push({ op, path: { path: { ...path, schema: container.id } }, value: iv });
    }
  }
  return out;
}

function knownSchemas(shape: ResourceShape | undefined): readonly SchemaDefinition[] {
  return shape ? [shape.coreSchema, ...shape.extensions.map((e) => e.schema)] : STANDARD_SCHEMA_DEFINITIONS;
}

/**
 * Parses a PATCH body (RFC 7644 §3.5.2). Pass the resource type's shape so path-less values can
 * name its custom extensions; without it the standard User/Group/Enterprise URIs are known.
 * Throws 400 invalidSyntax (shape of the message, unknown op), invalidPath, invalidValue
 * (missing or unusable value) or noTarget (remove without path, §3.5.2.2).
 */
export function parsePatchRequest(body: unknown, shape?: ResourceShape): PatchOperation[] {
  if (!isPlainObject(body)) throw ScimError.invalidSyntax('The PATCH body must be a JSON object');
  const schemas = property(body, 'schemas');
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && sameUrn(s, PATCH_OP_SCHEMA))) {
    throw ScimError.invalidSyntax(`"schemas" must contain ${PATCH_OP_SCHEMA}`);
  }
  const operations = property(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0) {
    throw ScimError.invalidSyntax('"Operations" must be a non-empty array');
  }
  const known = knownSchemas(shape);
  const out: PatchOperation[] = [];
  operations.forEach((raw: unknown, i) => {
    const context = `Operations[${i}]`;
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
      out.push(value === undefined ? { op, path } : { op, path, value });
      return;
    }
    // RFC 7644 §3.5.2.1/3: add and replace "MUST contain a 'value' member".
    if (valueKey === undefined) throw ScimError.invalidValue(`${context}: "${op}" needs a "value"`);
    if (path) out.push({ op: op as PatchOp, path, value });
    else out.push(...expandPathless(op as 'add' | 'replace', value, known, context));
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Applying

/** RFC 7643 §2.5: null and [] are unassigned. */
export function unassigned(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.length === 0);
}

function asArray(v: unknown): unknown[] {
  if (unassigned(v)) return [];
  return Array.isArray(v) ? [...v] : [v];
}

function single(def: AttributeDefinition): AttributeDefinition {
  return { ...def, multiValued: false };
}

/**
 * Whether two values of a multi-valued attribute are "the same value" for add (no duplicates,
 * §3.5.2.1) and for remove-by-value: same `value` (and same `type` when both carry one) when
 * the attribute has a `value` sub-attribute, else equal as a whole.
 */
function sameElement(def: AttributeDefinition, a: unknown, b: unknown): boolean {
  const valueDef = findSubAttribute(def, 'value');
  if (valueDef && isPlainObject(a) && isPlainObject(b) && !unassigned(a.value) && !unassigned(b.value)) {
    if (!valuesEqual(valueDef, a.value, b.value)) return false;
    const typeDef = findSubAttribute(def, 'type');
    return !typeDef || unassigned(a.type) || unassigned(b.type) || valuesEqual(typeDef, a.type, b.type);
  }
  return valuesEqual(single(def), a, b);
}

function immutableError(label: string): ScimError {
  return ScimError.mutability(`${label} is immutable: it cannot be changed once set`);
}

/**
 * Merges sub-attributes into one complex value (§3.5.2.1/3: "sub-attributes that are not
 * specified in the value parameter are left unchanged"). Immutable sub-attributes that already
 * hold a different value are refused (`strictImmutable`) or kept (`!strictImmutable`, used when
 * re-adding an existing value of a multi-valued attribute).
 */
function mergeComplex(
  def: AttributeDefinition,
  current: unknown,
  incoming: ScimObject,
  label: string,
  strictImmutable: boolean,
): ScimObject {
  const out: ScimObject = isPlainObject(current) ? { ...current } : {};
  for (const [name, value] of Object.entries(incoming)) {
    const sub = findSubAttribute(def, name);
    // An equal value (per caseExact) keeps the stored spelling: no spurious change.
    if (sub && !unassigned(out[name]) && valuesEqual(sub, out[name], value)) continue;
    if (sub?.mutability === 'immutable' && !unassigned(out[name])) {
      if (strictImmutable) throw immutableError(`${label}.${name}`);
      continue;
    }
    out[name] = value;
  }
  return out;
}

/** `type eq "work" and primary eq true` → {type: "work", primary: true}; else undefined. */
function equalityFields(def: AttributeDefinition, filter: FilterNode): ScimObject | undefined {
  if (filter.type === 'and') {
    const left = equalityFields(def, filter.left);
    const right = equalityFields(def, filter.right);
    if (!left || !right) return undefined;
    for (const k of Object.keys(right)) if (k in left && left[k] !== right[k]) return undefined;
    return { ...left, ...right };
  }
  if (filter.type !== 'compare' || filter.operator !== 'eq' || filter.value === null) return undefined;
  if (filter.path.schema !== undefined || filter.path.subAttribute !== undefined) return undefined;
  const sub = findSubAttribute(def, filter.path.attribute);
  if (!sub || sub.mutability === 'readOnly') return undefined;
  return { [sub.name]: filter.value };
}

/**
 * RFC 7644 §3.5.2: setting `primary: true` on a value SHALL set it to false on every other
 * value. `chosen` are the values this operation made primary; more than one is an error.
 */
function settlePrimary(
  def: AttributeDefinition,
  elements: unknown[],
  chosen: readonly unknown[],
  label: string,
): void {
  if (!findSubAttribute(def, 'primary')) return;
  const winners = chosen.filter((e) => isPlainObject(e) && e.primary === true);
  if (winners.length > 1) {
    throw ScimError.invalidValue(`${label}: the operation would make ${winners.length} values primary`);
  }
  if (winners.length === 0) return;
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i];
    if (isPlainObject(e) && e.primary === true && !winners.includes(e))
      elements[i] = { ...e, primary: false };
  }
}

interface ApplyState {
  shape: ResourceShape;
  resource: ScimObject;
  /** Top-level attributes an operation changed, for the required check at the end. */
  touched: Map<string, AttributeTarget>;
}

function containerOf(state: ApplyState, target: AttributeTarget, create: boolean): ScimObject | undefined {
  if (!target.extension) return state.resource;
  const existing = state.resource[target.schema.id];
  if (isPlainObject(existing)) return existing;
  if (!create) return undefined;
  const created: ScimObject = {};
  state.resource[target.schema.id] = created;
  return created;
}

function write(container: ScimObject, name: string, value: unknown): void {
  if (unassigned(value)) delete container[name];
  else container[name] = value;
}

/** An extension URI used as the whole path (`"path": "urn:...:enterprise:2.0:User"`). */
function wholeExtension(
  shape: ResourceShape,
  path: PatchPath,
): { schema: SchemaDefinition; required: boolean } | undefined {
  const p = path.path;
  if (p.schema === undefined || p.subAttribute !== undefined || path.valueFilter !== undefined)
    return undefined;
  const urn = `${p.schema}:${p.attribute}`;
  return shape.extensions.find((e) => urnMatches(urn, e.schema.id));
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
  const shown = formatPatchPath(path);
  const ext = wholeExtension(state.shape, path);
  if (ext) {
    applyWholeExtension(state, operation, ext, shown, context);
    return;
  }
  const target = resolveAttribute(state.shape, path.path);
  if (!target) {
    const schemaKnown = path.path.schema === undefined || schemaOf(state.shape, path.path.schema);
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
  state.touched.set(`${target.schema.id}|${def.name}`, target);
  const label = shown;

  // RFC 7644 §3.5.2: a client MUST NOT modify readOnly attributes. Setting one to the value it
  // already has is accepted as a no-op (Okta repeats the `id` in path-less replaces).
  if (def.mutability === 'readOnly' || sub?.mutability === 'readOnly') {
    const container = containerOf(state, target, false);
    let current: unknown = container?.[def.name];
    if (sub) current = isPlainObject(current) ? current[sub.name] : undefined;
    const comparable = sub ?? def;
    if (
      op === 'remove' ||
      path.valueFilter !== undefined ||
      !valuesEqual(comparable, current, operation.value)
    ) {
      throw ScimError.mutability(`${context}: "${label}" is readOnly`);
    }
    return;
  }

  const container = containerOf(state, target, op !== 'remove');
  if (!container) return; // remove from an extension the resource does not have: nothing to do
  if (path.valueFilter !== undefined) {
    applyFiltered(container, target, path.valueFilter, sub, operation, label);
  } else if (sub) {
    applySubAttribute(container, target, sub, operation, label);
  } else {
    applyWhole(container, target, operation, label);
  }
}

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
    return;
  }
  if (!isPlainObject(operation.value)) {
    throw ScimError.invalidValue(`${context}: the value for "${shown}" must be an object of attributes`);
  }
  for (const [inner, value] of Object.entries(operation.value)) {
    const path = keyPath(inner, `${context}: "${inner}"`);
    if (path.schema !== undefined)
      throw ScimError.invalidPath(`${context}: "${inner}" must not carry a schema URI`);
    applyOperation(state, { op: operation.op, path: { path: { ...path, schema: id } }, value }, context);
  }
}

/** The whole attribute: `emails`, `name`, `userName`. */
function applyWhole(
  container: ScimObject,
  target: AttributeTarget,
  operation: PatchOperation,
  label: string,
): void {
  const { def } = target;
  const name = def.name;
  const current = container[name];
  const isComplexSingle = def.type === 'complex' && !def.multiValued;

  if (operation.op === 'remove') {
    if (unassigned(current)) return;
    // Entra removes members/values by listing them: `{"op":"remove","path":"members","value":[...]}`.
    if (def.multiValued && !unassigned(operation.value)) {
      const listed = coerceValue(def, operation.value, label, []) as unknown[] | undefined;
      if (!listed) return;
      if (def.mutability === 'immutable') throw immutableError(label);
      write(
        container,
        name,
        asArray(current).filter((c) => !listed.some((l) => sameElement(def, c, l))),
      );
      return;
    }
    if (def.mutability === 'immutable') throw immutableError(label);
    delete container[name];
    return;
  }

  // Sub-attributes of a single complex value merge with the stored ones, so their required
  // sub-attributes are checked after the merge.
  const incoming = coerceValue(def, operation.value, label, [], { checkRequired: !isComplexSingle });
  if (incoming === undefined) {
    // add of nothing changes nothing; replace with null/[] unassigns (RFC 7643 §2.5).
    if (operation.op === 'replace' && !unassigned(current)) {
      if (def.mutability === 'immutable') throw immutableError(label);
      delete container[name];
    }
    return;
  }
  if (def.mutability === 'immutable' && !unassigned(current) && !isComplexSingle) {
    if (!valuesEqual(def, current, incoming)) throw immutableError(label);
    return;
  }

  if (def.multiValued) {
    const values = incoming as unknown[];
    if (operation.op === 'replace') {
      container[name] = values;
      return;
    }
    // add: new values are appended; a value already there is not duplicated (§3.5.2.1) but
    // takes the sub-attributes the client sent.
    const merged = asArray(current);
    const chosen: unknown[] = [];
    for (const v of values) {
      const at = merged.findIndex((m) => sameElement(def, m, v));
      if (at === -1) {
        merged.push(v);
        chosen.push(v);
      } else if (isPlainObject(v)) {
        const updated = mergeComplex(def, merged[at], v, `${label}[${at}]`, false);
        merged[at] = updated;
        chosen.push(updated);
      }
    }
    settlePrimary(def, merged, chosen, label);
    container[name] = merged;
    return;
  }
  if (isComplexSingle) {
    const merged = mergeComplex(def, current, incoming as ScimObject, label, true);
    if (def.mutability === 'immutable' && !unassigned(current) && !valuesEqual(def, current, merged)) {
      throw immutableError(label);
    }
    checkRequiredSubAttributes(def, merged, label);
    container[name] = merged;
    return;
  }
  container[name] = incoming;
}

/** `name.givenName` (single complex) or `emails.value` (every value of a multi-valued one). */
function applySubAttribute(
  container: ScimObject,
  target: AttributeTarget,
  sub: AttributeDefinition,
  operation: PatchOperation,
  label: string,
): void {
  const { def } = target;
  const name = def.name;
  const removing = operation.op === 'remove';
  const incoming = removing ? undefined : coerceValue(sub, operation.value, label, []);
  if (!removing && incoming === undefined && operation.op === 'add') return;
  const setOn = (element: unknown, at: string): ScimObject | undefined => {
    const obj: ScimObject = isPlainObject(element) ? { ...element } : {};
    const before = obj[sub.name];
    if (sub.mutability === 'immutable' && !unassigned(before) && !valuesEqual(sub, before, incoming)) {
      throw immutableError(at);
    }
    write(obj, sub.name, incoming);
    return Object.keys(obj).length > 0 ? obj : undefined;
  };

  if (!def.multiValued) {
    const current = container[name];
    if (removing && (!isPlainObject(current) || unassigned(current[sub.name]))) return;
    const updated = setOn(current, label);
    if (updated) checkRequiredSubAttributes(def, updated, name);
    write(container, name, updated);
    return;
  }
  const elements = asArray(container[name]);
  if (elements.length === 0) {
    if (removing || incoming === undefined) return;
    // No value yet: the sub-attribute starts one (replace of a missing target is an add, §3.5.2.3).
    const created = coerceSingle(def, { [sub.name]: incoming }, `${name}[0]`, []);
    write(container, name, created === undefined ? undefined : [created]);
    return;
  }
  if (sub.name === 'primary' && incoming === true && elements.length > 1) {
    throw ScimError.invalidValue(`${label}: the operation would make ${elements.length} values primary`);
  }
  const updated = elements
    .map((e, i) => setOn(e, `${name}[${i}].${sub.name}`))
    .filter((e) => e !== undefined);
  write(container, name, updated);
}

/** `emails[type eq "work"]` and `emails[type eq "work"].value`. */
function applyFiltered(
  container: ScimObject,
  target: AttributeTarget,
  filter: FilterNode,
  sub: AttributeDefinition | undefined,
  operation: PatchOperation,
  label: string,
): void {
  const { def } = target;
  const name = def.name;
  const elements = asArray(container[name]);
  const subDefs = def.subAttributes ?? [];
  const matched = new Set<number>();
  elements.forEach((e, i) => {
    if (matchesValue(filter, e, subDefs)) matched.add(i);
  });

  if (operation.op === 'remove') {
    // A filter that matches nothing removes nothing: success, so retries stay idempotent.
    if (matched.size === 0) return;
    if (!sub) {
      if (def.mutability === 'immutable') throw immutableError(label);
      write(
        container,
        name,
        elements.filter((_, i) => !matched.has(i)),
      );
      return;
    }
    const kept: unknown[] = [];
    elements.forEach((e, i) => {
      if (!matched.has(i) || !isPlainObject(e) || unassigned(e[sub.name])) {
        kept.push(e);
        return;
      }
      if (sub.mutability === 'immutable') throw immutableError(`${name}[${i}].${sub.name}`);
      const { [sub.name]: _removed, ...rest } = e;
      if (Object.keys(rest).length > 0) kept.push(rest);
    });
    write(container, name, kept);
    return;
  }

  // add / replace
  let incoming: unknown;
  if (sub) {
    incoming = coerceValue(sub, operation.value, label, []);
    if (incoming === undefined) {
      if (operation.op === 'add') return;
      // replace with null: unassign the sub-attribute of the matching values
      applyFiltered(
        container,
        target,
        filter,
        sub,
        { op: 'remove', path: { path: { attribute: name } } },
        label,
      );
      return;
    }
  } else {
    // add merges into the matched values: their required sub-attributes are checked after the merge
    incoming = coerceSingle(def, operation.value, label, [], { checkRequired: operation.op === 'replace' });
    if (incoming === undefined) {
      if (operation.op === 'add') return;
      applyFiltered(
        container,
        target,
        filter,
        undefined,
        { op: 'remove', path: { path: { attribute: name } } },
        label,
      );
      return;
    }
  }

  if (matched.size === 0) {
    // Entra: `emails[type eq "work"].value` when there is no work email yet creates
    // {type: "work", value: ...}. Only plain equality filters say what to create.
    const seed = equalityFields(def, filter);
    if (!seed) {
      throw ScimError.noTarget(`${label}: no value matches the filter`);
    }
    const raw = sub ? { ...seed, [sub.name]: incoming } : { ...seed, ...(incoming as ScimObject) };
    const created = coerceSingle(def, raw, `${name}[${elements.length}]`, []);
    if (created === undefined) return;
    elements.push(created);
    settlePrimary(def, elements, [created], label);
    checkOnePrimary(def, elements, name);
    container[name] = elements;
    return;
  }

  const chosen: unknown[] = [];
  const next = elements.map((e, i) => {
    if (!matched.has(i)) return e;
    let updated: ScimObject;
    if (sub) {
      const obj: ScimObject = isPlainObject(e) ? { ...e } : {};
      if (
        sub.mutability === 'immutable' &&
        !unassigned(obj[sub.name]) &&
        !valuesEqual(sub, obj[sub.name], incoming)
      ) {
        throw immutableError(`${name}[${i}].${sub.name}`);
      }
      obj[sub.name] = incoming;
      updated = obj;
    } else if (operation.op === 'replace') {
      // §3.5.2.3: "all matching record values SHALL be replaced".
      for (const s of subDefs) {
        if (s.mutability === 'immutable' && isPlainObject(e) && !unassigned(e[s.name])) {
          if (!valuesEqual(s, e[s.name], (incoming as ScimObject)[s.name]))
            throw immutableError(`${name}[${i}].${s.name}`);
        }
      }
      updated = { ...(incoming as ScimObject) };
    } else {
      updated = mergeComplex(def, e, incoming as ScimObject, `${name}[${i}]`, true);
      checkRequiredSubAttributes(def, updated, `${name}[${i}]`);
    }
    chosen.push(updated);
    return updated;
  });
  settlePrimary(def, next, chosen, label);
  container[name] = next;
}

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

  // Required attributes may not end up unassigned (RFC 7643 §2.2 "required").
  for (const target of state.touched.values()) {
    const { def } = target;
    if (!def.required || def.mutability === 'readOnly') continue;
    const container = target.extension ? state.resource[target.schema.id] : state.resource;
    if (!isPlainObject(container) || unassigned(container[def.name])) {
      throw ScimError.invalidValue(`${attributeLabel(target)} is required and cannot be removed`);
    }
  }

  // Extension objects left empty are dropped; `schemas` lists exactly the extensions present.
  const res = state.resource;
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
  return res;
}

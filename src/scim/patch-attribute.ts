/**
 * PATCH operations on a path without a value filter (RFC 7644 §3.5.2.1-3): a whole attribute
 * (`emails`, `name`, `userName`) or one sub-attribute (`name.givenName`, `emails.value`).
 * add/replace with null or [] : add does nothing, replace unassigns (RFC 7643 §2.5); remove of an
 * attribute that has no value is a successful no-op (idempotent retries).
 */

import { ScimError } from './errors.ts';
import { candidatesFor, indexOfElements, noteElement } from './patch-index.ts';
import type { PatchOperation } from './patch-request.ts';
import {
  asArray,
  immutableError,
  mergeComplex,
  sameElement,
  settlePrimary,
  unassigned,
  write,
} from './patch-values.ts';
import {
  type AttributeTarget,
  checkRequiredSubAttributes,
  coerceSingle,
  coerceValue,
  isPlainObject,
  type ScimObject,
  valuesEqual,
} from './resource.ts';
import type { AttributeDefinition } from './schema-types.ts';

/** The whole attribute: `emails`, `name`, `userName`. */
export function applyWhole(
  container: ScimObject,
  target: AttributeTarget,
  operation: PatchOperation,
  label: string,
): void {
  const { def } = target;
  const name = def.name;
  const current = container[name];
  if (operation.op === 'remove') {
    removeWhole(container, def, operation.value, label);
    return;
  }
  // Sub-attributes of a single complex value merge with the stored ones, so their required
  // sub-attributes are checked after the merge.
  const isComplexSingle = def.type === 'complex' && !def.multiValued;
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
  if (def.multiValued && operation.op === 'add') {
    container[name] = addValues(def, current, incoming as unknown[], label);
  } else if (isComplexSingle) {
    container[name] = mergeSingleComplex(def, current, incoming as ScimObject, label);
  } else {
    container[name] = incoming;
  }
}

/** remove of a whole attribute, or of the listed values of a multi-valued one. */
function removeWhole(
  container: ScimObject,
  def: AttributeDefinition,
  listedRaw: unknown,
  label: string,
): void {
  const current = container[def.name];
  if (unassigned(current)) return;
  // Entra removes members/values by listing them: `{"op":"remove","path":"members","value":[...]}`.
  if (def.multiValued && !unassigned(listedRaw)) {
    const listed = coerceValue(def, listedRaw, label, []) as unknown[] | undefined;
    if (!listed) return;
    if (def.mutability === 'immutable') throw immutableError(label);
    write(
      container,
      def.name,
      asArray(current).filter((c) => !listed.some((l) => sameElement(def, c, l))),
    );
    return;
  }
  if (def.mutability === 'immutable') throw immutableError(label);
  delete container[def.name];
}

/**
 * add to a multi-valued attribute: new values are appended; a value already there is not
 * duplicated (§3.5.2.1) but takes the sub-attributes the client sent. The stored array is
 * extended in place and its values found by key (patch-index.ts), so n adds cost O(n).
 */
function addValues(def: AttributeDefinition, current: unknown, values: unknown[], label: string): unknown[] {
  // `current` belongs to the patched copy (applyPatch clones its input), so it may grow in place.
  const merged = Array.isArray(current) ? current : asArray(current);
  const index = indexOfElements(def, merged);
  const chosen: unknown[] = [];
  for (const v of values) {
    const at = candidatesFor(def, index, v).find((m) => sameElement(def, merged[m], v)) ?? -1;
    if (at === -1) {
      merged.push(v);
      noteElement(def, merged, index, merged.length - 1);
      chosen.push(v);
    } else if (isPlainObject(v)) {
      const updated = mergeComplex(def, merged[at], v, `${label}[${at}]`, false);
      merged[at] = updated;
      noteElement(def, merged, index, at);
      chosen.push(updated);
    }
  }
  settlePrimary(def, merged, chosen, label, index);
  return merged;
}

/** add/replace of a single complex value merges sub-attributes (§3.5.2.1/3). */
function mergeSingleComplex(
  def: AttributeDefinition,
  current: unknown,
  incoming: ScimObject,
  label: string,
): ScimObject {
  const merged = mergeComplex(def, current, incoming, label, true);
  if (def.mutability === 'immutable' && !unassigned(current) && !valuesEqual(def, current, merged)) {
    throw immutableError(label);
  }
  checkRequiredSubAttributes(def, merged, label);
  return merged;
}

/** `name.givenName` (single complex) or `emails.value` (every value of a multi-valued one). */
export function applySubAttribute(
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

/**
 * The value rules every PATCH operation shares (RFC 7644 §3.5.2): what "unassigned" is, when two
 * values of a multi-valued attribute are the same value, merging sub-attributes, immutability and
 * the one-primary rule.
 */
import { ScimError } from './errors.ts';
import { type ElementIndex, noteElement } from './patch-index.ts';
import { isPlainObject, type ScimObject, valuesEqual } from './resource.ts';
import { findSubAttribute } from './schema-defs.ts';
import type { AttributeDefinition } from './schema-types.ts';

/** RFC 7643 §2.5: null and [] are unassigned. */
export function unassigned(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.length === 0);
}

export function asArray(v: unknown): unknown[] {
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
export function sameElement(def: AttributeDefinition, a: unknown, b: unknown): boolean {
  const valueDef = findSubAttribute(def, 'value');
  if (valueDef && isPlainObject(a) && isPlainObject(b) && !unassigned(a.value) && !unassigned(b.value)) {
    if (!valuesEqual(valueDef, a.value, b.value)) return false;
    const typeDef = findSubAttribute(def, 'type');
    return !typeDef || unassigned(a.type) || unassigned(b.type) || valuesEqual(typeDef, a.type, b.type);
  }
  return valuesEqual(single(def), a, b);
}

export function immutableError(label: string): ScimError {
  return ScimError.mutability(`${label} is immutable: it cannot be changed once set`);
}

/**
 * Merges sub-attributes into one complex value (§3.5.2.1/3: "sub-attributes that are not
 * specified in the value parameter are left unchanged"). Immutable sub-attributes that already
 * hold a different value are refused (`strictImmutable`) or kept (`!strictImmutable`, used when
 * re-adding an existing value of a multi-valued attribute).
 */
export function mergeComplex(
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

/**
 * RFC 7644 §3.5.2: setting `primary: true` on a value SHALL set it to false on every other
 * value. `chosen` are the values this operation made primary; more than one is an error. With
 * the array's index, only the values that are primary are visited.
 */
export function settlePrimary(
  def: AttributeDefinition,
  elements: unknown[],
  chosen: readonly unknown[],
  label: string,
  index?: ElementIndex,
): void {
  if (!findSubAttribute(def, 'primary')) return;
  const winners = chosen.filter((e) => isPlainObject(e) && e.primary === true);
  if (winners.length > 1) {
    throw ScimError.invalidValue(`${label}: the operation would make ${winners.length} values primary`);
  }
  if (winners.length === 0) return;
  const positions = index ? [...index.primaries] : elements.keys();
  for (const i of positions) {
    const e = elements[i];
    if (!isPlainObject(e) || e.primary !== true || winners.includes(e)) continue;
    elements[i] = { ...e, primary: false };
    if (index) noteElement(def, elements, index, i);
  }
}

/** Sets an attribute, or takes it out when the value is unassigned (RFC 7643 §2.5). */
export function write(container: ScimObject, name: string, value: unknown): void {
  if (unassigned(value)) delete container[name];
  else container[name] = value;
}

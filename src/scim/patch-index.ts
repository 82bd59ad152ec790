/**
 * "The same value" (patch-values.ts `sameElement`) found by a key instead of a scan, so that a
 * PATCH adding n values to a multi-valued attribute, in one operation or in n, costs O(n) and
 * not O(n²) (issue 15: 15,800 adds held the event loop for 13 s).
 *
 * The key is the element's `value` as `valuesEqual` compares it (lower-cased unless caseExact):
 * two elements can only be the same value when their keys are equal, and `sameElement` still
 * decides among those (it also compares `type`). Elements without a keyable `value` go to
 * `unkeyed` and are compared one by one, as before; they never equal a keyed one.
 */
import { isPlainObject } from './resource.ts';
import { findSubAttribute } from './schema-defs.ts';
import type { AttributeDefinition } from './schema-types.ts';

export interface ElementIndex {
  byKey: Map<string, number[]>;
  unkeyed: number[];
  /** Positions of the elements with `primary: true` (RFC 7644 §3.5.2: at most one stays so). */
  primaries: Set<number>;
  /** The array's length when last indexed: a different length means it was changed elsewhere. */
  length: number;
}

/** Indexes by the array they describe; an array replaced by another simply gets a new index. */
const indexes = new WeakMap<unknown[], ElementIndex>();

function keyOfValue(valueDef: AttributeDefinition | undefined, v: unknown): string | undefined {
  if (typeof v === 'string') return `s:${valueDef?.caseExact ? v : v.toLowerCase()}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v}:${String(v)}`;
  return undefined;
}

/** The key an element is found by, or undefined when only a full comparison can tell. */
export function elementKey(def: AttributeDefinition, element: unknown): string | undefined {
  const valueDef = findSubAttribute(def, 'value');
  if (!valueDef) return keyOfValue(def, element);
  if (!isPlainObject(element)) return undefined;
  return keyOfValue(valueDef, element.value);
}

/** The index of `elements`, built once and kept while changes go through `noteElement`. */
export function indexOfElements(def: AttributeDefinition, elements: unknown[]): ElementIndex {
  const cached = indexes.get(elements);
  if (cached && cached.length === elements.length) return cached;
  const index: ElementIndex = { byKey: new Map(), unkeyed: [], primaries: new Set(), length: 0 };
  indexes.set(elements, index);
  for (let at = 0; at < elements.length; at++) noteElement(def, elements, index, at);
  return index;
}

/** Records the element at `at`, appended or replaced in place (its key is unchanged then). */
export function noteElement(
  def: AttributeDefinition,
  elements: unknown[],
  index: ElementIndex,
  at: number,
): void {
  const element = elements[at];
  if (at >= index.length) {
    const key = elementKey(def, element);
    if (key === undefined) index.unkeyed.push(at);
    else {
      const same = index.byKey.get(key);
      if (same) same.push(at);
      else index.byKey.set(key, [at]);
    }
    index.length = at + 1;
  }
  if (isPlainObject(element) && element.primary === true) index.primaries.add(at);
  else index.primaries.delete(at);
}

/** Positions that may hold the same value as `element` (all others certainly do not). */
export function candidatesFor(
  def: AttributeDefinition,
  index: ElementIndex,
  element: unknown,
): readonly number[] {
  const key = elementKey(def, element);
  return key === undefined ? index.unkeyed : (index.byKey.get(key) ?? []);
}

/**
 * PATCH operations on a value-filtered path (RFC 7644 §3.5.2): `emails[type eq "work"]` and
 * `emails[type eq "work"].value`. Decisions where the RFC leaves room:
 * - remove with a filter that matches nothing is a successful no-op (idempotent retries);
 * - add/replace with a filter that matches nothing is 400 noTarget (§3.5.2.3) unless the filter is
 *   a plain `sub eq literal` conjunction, in which case the value is created from it (Entra's
 *   `emails[type eq "work"].value` on a user without a work email).
 */
import { ScimError } from './errors.ts';
import type { FilterNode } from './filter-ast.ts';
import { matchesValue } from './filter-eval.ts';
import type { PatchOperation } from './patch-request.ts';
import { asArray, immutableError, mergeComplex, settlePrimary, unassigned, write } from './patch-values.ts';
import {
  type AttributeTarget,
  checkOnePrimary,
  checkRequiredSubAttributes,
  coerceSingle,
  coerceValue,
  isPlainObject,
  type ScimObject,
  valuesEqual,
} from './resource.ts';
import { findSubAttribute } from './schema-defs.ts';
import type { AttributeDefinition } from './schema-types.ts';

/** The values of a multi-valued attribute and which of them a value filter selects. */
interface FilteredValues {
  container: ScimObject;
  def: AttributeDefinition;
  elements: unknown[];
  matched: Set<number>;
  /** The sub-attribute the path names after the filter (`.value`), if any. */
  sub: AttributeDefinition | undefined;
  label: string;
}

/** `emails[type eq "work"]` and `emails[type eq "work"].value`. */
export function applyFiltered(
  container: ScimObject,
  target: AttributeTarget,
  filter: FilterNode,
  sub: AttributeDefinition | undefined,
  operation: PatchOperation,
  label: string,
): void {
  const { def } = target;
  const elements = asArray(container[def.name]);
  const subDefs = def.subAttributes ?? [];
  const matched = new Set<number>();
  elements.forEach((e, i) => {
    if (matchesValue(filter, e, subDefs)) matched.add(i);
  });
  const values: FilteredValues = { container, def, elements, matched, sub, label };
  if (operation.op === 'remove') {
    removeMatched(values);
    return;
  }
  const incoming = sub
    ? coerceValue(sub, operation.value, label, [])
    : // add merges into the matched values: their required sub-attributes are checked after the merge
      coerceSingle(def, operation.value, label, [], { checkRequired: operation.op === 'replace' });
  if (incoming === undefined) {
    // add of nothing changes nothing; replace with null unassigns the matched values (or their
    // sub-attribute).
    if (operation.op === 'replace') removeMatched(values);
    return;
  }
  if (matched.size === 0) createFromFilter(values, filter, incoming);
  else updateMatched(values, operation.op, incoming);
}

/** remove of the matched values, or of their sub-attribute; a value left empty goes too. */
function removeMatched({ container, def, elements, matched, sub, label }: FilteredValues): void {
  // A filter that matches nothing removes nothing: success, so retries stay idempotent.
  if (matched.size === 0) return;
  if (!sub) {
    if (def.mutability === 'immutable') throw immutableError(label);
    write(
      container,
      def.name,
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
    if (sub.mutability === 'immutable') throw immutableError(`${def.name}[${i}].${sub.name}`);
    const { [sub.name]: _removed, ...rest } = e;
    if (Object.keys(rest).length > 0) kept.push(rest);
  });
  write(container, def.name, kept);
}

/**
 * Nothing matched: Entra's `emails[type eq "work"].value` when there is no work email yet creates
 * {type: "work", value: ...}. Only plain equality filters say what to create; else 400 noTarget.
 */
function createFromFilter(values: FilteredValues, filter: FilterNode, incoming: unknown): void {
  const { container, def, elements, sub, label } = values;
  const seed = equalityFields(def, filter);
  if (!seed) {
    throw ScimError.noTarget(`${label}: no value matches the filter`);
  }
  const raw = sub ? { ...seed, [sub.name]: incoming } : { ...seed, ...(incoming as ScimObject) };
  const created = coerceSingle(def, raw, `${def.name}[${elements.length}]`, []);
  if (created === undefined) return;
  elements.push(created);
  settlePrimary(def, elements, [created], label);
  checkOnePrimary(def, elements, def.name);
  container[def.name] = elements;
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

/** add/replace on the matched values; the others stay as they are. */
function updateMatched(values: FilteredValues, op: 'add' | 'replace', incoming: unknown): void {
  const { container, def, elements, matched, label } = values;
  const chosen: unknown[] = [];
  const next = elements.map((e, i) => {
    if (!matched.has(i)) return e;
    const updated = updatedValue(values, op, e, `${def.name}[${i}]`, incoming);
    chosen.push(updated);
    return updated;
  });
  settlePrimary(def, next, chosen, label);
  container[def.name] = next;
}

/** One matched value after the operation; `at` labels it (`emails[1]`) in errors. */
function updatedValue(
  { def, sub }: FilteredValues,
  op: 'add' | 'replace',
  element: unknown,
  at: string,
  incoming: unknown,
): ScimObject {
  if (sub) {
    const obj: ScimObject = isPlainObject(element) ? { ...element } : {};
    if (
      sub.mutability === 'immutable' &&
      !unassigned(obj[sub.name]) &&
      !valuesEqual(sub, obj[sub.name], incoming)
    ) {
      throw immutableError(`${at}.${sub.name}`);
    }
    obj[sub.name] = incoming;
    return obj;
  }
  if (op === 'replace') {
    // §3.5.2.3: "all matching record values SHALL be replaced".
    for (const s of def.subAttributes ?? []) {
      if (s.mutability === 'immutable' && isPlainObject(element) && !unassigned(element[s.name])) {
        if (!valuesEqual(s, element[s.name], (incoming as ScimObject)[s.name]))
          throw immutableError(`${at}.${s.name}`);
      }
    }
    return { ...(incoming as ScimObject) };
  }
  const merged = mergeComplex(def, element, incoming as ScimObject, at, true);
  checkRequiredSubAttributes(def, merged, at);
  return merged;
}

/**
 * Evaluation of a value filter against ONE value of a multi-valued attribute (PATCH,
 * RFC 7644 §3.5.2). Searches are never evaluated in memory: they go to the directory
 * (docs/architecture.md §Queries).
 */
import type { AttributePath, CompareOperator, FilterNode, FilterValue } from './filter-ast.ts';
import type { AttributeDefinition } from './schema-types.ts';

function findDefinition(defs: readonly AttributeDefinition[], name: string): AttributeDefinition | undefined {
  const lower = name.toLowerCase();
  return defs.find((d) => d.name.toLowerCase() === lower);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function getMember(obj: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

/** The value at `path` inside one complex value; a simple value stands for its own `value`. */
function resolve(value: unknown, path: AttributePath): unknown {
  if (!isRecord(value)) {
    return path.attribute.toLowerCase() === 'value' && path.subAttribute === undefined ? value : undefined;
  }
  const first = getMember(value, path.attribute);
  if (path.subAttribute === undefined) return first;
  const sub = path.subAttribute;
  if (Array.isArray(first)) return first.map((v) => (isRecord(v) ? getMember(v, sub) : undefined));
  return isRecord(first) ? getMember(first, sub) : undefined;
}

function definitionFor(
  defs: readonly AttributeDefinition[],
  path: AttributePath,
): AttributeDefinition | undefined {
  const def = findDefinition(defs, path.attribute);
  if (path.subAttribute === undefined || def === undefined) return def;
  return findDefinition(def.subAttributes ?? [], path.subAttribute);
}

/** RFC 7643 §2.5: null and [] are unassigned; RFC 7644 §3.4.2.2 "pr": a non-empty value. */
function isPresent(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (Array.isArray(v)) return v.some(isPresent);
  if (isRecord(v)) return Object.values(v).some(isPresent);
  return true;
}

function compareOrder(a: number | string, b: number | string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareOne(
  actual: unknown,
  op: CompareOperator,
  literal: FilterValue,
  def: AttributeDefinition | undefined,
): boolean {
  if (actual === undefined || actual === null) {
    // An unassigned attribute equals only null, and is "not equal" to anything else.
    if (op === 'eq') return literal === null;
    if (op === 'ne') return literal !== null;
    return false;
  }
  if (literal === null) return op === 'ne';
  if (typeof actual === 'boolean') {
    if (typeof literal !== 'boolean') return op === 'ne';
    return op === 'eq' ? actual === literal : op === 'ne' ? actual !== literal : false;
  }
  if (typeof actual === 'number') {
    if (typeof literal !== 'number') return op === 'ne';
    return orderResult(op, compareOrder(actual, literal));
  }
  if (typeof actual !== 'string') return op === 'ne';
  // An unquoted numeric token (Entra) against a string attribute compares as its text.
  const lit = typeof literal === 'number' ? String(literal) : literal;
  if (typeof lit !== 'string') return op === 'ne';
  if (def?.type === 'dateTime') {
    const a = Date.parse(actual);
    const b = Date.parse(lit);
    if (!Number.isNaN(a) && !Number.isNaN(b) && op !== 'co' && op !== 'sw' && op !== 'ew') {
      return orderResult(op, compareOrder(a, b));
    }
  }
  // RFC 7644 §3.4.2.2: string comparisons honour the attribute's caseExact characteristic.
  const caseExact = def?.caseExact ?? false;
  const a = caseExact ? actual : actual.toLowerCase();
  const b = caseExact ? lit : lit.toLowerCase();
  switch (op) {
    case 'co':
      return a.includes(b);
    case 'sw':
      return a.startsWith(b);
    case 'ew':
      return a.endsWith(b);
    default:
      return orderResult(op, compareOrder(a, b));
  }
}

function orderResult(op: CompareOperator, order: number): boolean {
  switch (op) {
    case 'eq':
      return order === 0;
    case 'ne':
      return order !== 0;
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
    default:
      return false;
  }
}

function evaluate(node: FilterNode, value: unknown, defs: readonly AttributeDefinition[]): boolean {
  switch (node.type) {
    case 'and':
      return evaluate(node.left, value, defs) && evaluate(node.right, value, defs);
    case 'or':
      return evaluate(node.left, value, defs) || evaluate(node.right, value, defs);
    case 'not':
      return !evaluate(node.filter, value, defs);
    case 'present':
      return isPresent(resolve(value, node.path));
    case 'compare': {
      const actual = resolve(value, node.path);
      const def = definitionFor(defs, node.path);
      if (Array.isArray(actual)) {
        // A multi-valued operand matches when any of its values does (RFC 7644 §3.4.2.2).
        if (node.operator === 'ne') return actual.every((v) => compareOne(v, 'ne', node.value, def));
        return actual.some((v) => compareOne(v, node.operator, node.value, def));
      }
      return compareOne(actual, node.operator, node.value, def);
    }
    case 'valuePath': {
      const target = resolve(value, node.path);
      const def = definitionFor(defs, node.path);
      const items = Array.isArray(target) ? target : target === undefined ? [] : [target];
      return items.some((item) => evaluate(node.filter, item, def?.subAttributes ?? []));
    }
  }
}

/**
 * Whether one value of a multi-valued attribute satisfies a value filter, e.g. the element
 * `{type: "work", value: "a@x"}` against `type eq "work" and value co "@x"`. `subDefs` are the
 * attribute's sub-attribute definitions (for caseExact and dateTime); unknown names compare
 * case-insensitively as strings. A simple (non-object) value is addressed as `value`.
 */
export function matchesValue(
  filter: FilterNode,
  value: unknown,
  subDefs: readonly AttributeDefinition[] = [],
): boolean {
  return evaluate(filter, value, subDefs);
}

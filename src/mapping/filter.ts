/**
 * SCIM filter (RFC 7644 §3.4.2.2) -> ONE directory filter, through the mapping. What cannot be
 * expressed in LDAP is refused with 400 invalidFilter; nothing is evaluated in memory.
 */
import type { DirFilter } from '../ports/directory.ts';
import { ScimError } from '../scim/errors.ts';
import type { AttributePath, CompareOperator, FilterNode, FilterValue } from '../scim/filter-ast.ts';
import type { CompiledResourceType, CompiledRule } from './compiled.ts';
import { primaryFilter, withoutFallback } from './fallbacks.ts';
import { guidToBytes, TRANSFORMS, TransformError } from './transforms.ts';

export interface FilterContext {
  /** id -> DN of an entry of one of the given resource types; undefined when there is none. */
  resolveId(resourceTypes: string[], id: string): Promise<string | undefined>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function translateFilter(
  rt: CompiledResourceType,
  node: FilterNode,
  context: FilterContext,
): Promise<DirFilter> {
  return simplify(await translate(rt, node, context, undefined));
}

/** Rules of one element of a multi-valued attribute: those sharing attribute and type selection. */
interface ElementScope {
  rules: CompiledRule[];
  typeValue: string | undefined;
  primary: boolean;
}

async function translate(
  rt: CompiledResourceType,
  node: FilterNode,
  context: FilterContext,
  element: ElementScope | undefined,
): Promise<DirFilter> {
  switch (node.type) {
    case 'and':
      return {
        type: 'and',
        filters: [
          await translate(rt, node.left, context, element),
          await translate(rt, node.right, context, element),
        ],
      };
    case 'or':
      return {
        type: 'or',
        filters: [
          await translate(rt, node.left, context, element),
          await translate(rt, node.right, context, element),
        ],
      };
    case 'not':
      return { type: 'not', filter: await translate(rt, node.filter, context, element) };
    case 'valuePath': {
      if (element)
        throw ScimError.invalidFilter('a value filter cannot be nested inside another value filter');
      const scopes = elementScopes(rt, node.path);
      if (scopes.length === 0) throw notFilterable(node.path);
      const parts: DirFilter[] = [];
      for (const scope of scopes) parts.push(await translate(rt, node.filter, context, scope));
      return { type: 'or', filters: parts };
    }
    case 'present':
    case 'compare':
      return element ? translateInElement(rt, node, context, element) : translateTopLevel(rt, node, context);
  }
}

type Leaf = Extract<FilterNode, { type: 'present' } | { type: 'compare' }>;

async function translateTopLevel(
  rt: CompiledResourceType,
  node: Leaf,
  context: FilterContext,
): Promise<DirFilter> {
  const path = node.path;
  const name = path.attribute.toLowerCase();
  const isCorePath = !path.schema || path.schema.toLowerCase() === rt.coreSchema.id.toLowerCase();
  if (isCorePath && name === 'id' && !path.subAttribute) return idFilter(rt, node);
  if (isCorePath && name === 'meta') return metaFilter(rt, node);
  const rules = rulesForPath(rt, path);
  if (rules.length === 0) throw notFilterable(path);
  const parts: DirFilter[] = [];
  for (const rule of rules) parts.push(withoutFallback(rt, rule, await leafFilter(rule, node, context)));
  return parts.length === 1 ? parts[0]! : { type: 'or', filters: parts };
}

async function translateInElement(
  rt: CompiledResourceType,
  node: Leaf,
  context: FilterContext,
  element: ElementScope,
): Promise<DirFilter> {
  const sub = node.path.subAttribute
    ? `${node.path.attribute}.${node.path.subAttribute}`
    : node.path.attribute;
  const lower = sub.toLowerCase();
  // The selection itself is known from the mapping: `type` and `primary` are constants per element.
  if (lower === 'type') return constantCompare(node, element.typeValue);
  if (lower === 'primary') {
    // Primary where the mapping says so, unless the client left it unset (mapping/fallbacks.ts).
    const primaryRule = element.rules.find((r) => r.primary);
    if (!primaryRule) return constantCompare(node, undefined);
    return primaryFilter(rt, primaryRule, (actual) => constantOutcome(node, actual));
  }
  const rule = element.rules.find((r) => (r.subAttribute ?? 'value').toLowerCase() === lower);
  if (!rule) return { type: 'false' };
  return withoutFallback(rt, rule, await leafFilter(rule, node, context));
}

function constantCompare(node: Leaf, actual: string | boolean | undefined): DirFilter {
  return { type: constantOutcome(node, actual) ? 'true' : 'false' };
}

function constantOutcome(node: Leaf, actual: string | boolean | undefined): boolean {
  if (node.type === 'present') return actual !== undefined;
  const expected = node.value;
  let result: boolean;
  const a = typeof actual === 'string' ? actual.toLowerCase() : actual;
  const e = typeof expected === 'string' ? expected.toLowerCase() : expected;
  switch (node.operator) {
    case 'eq':
      result = a === e || (a === undefined && e === false);
      break;
    case 'ne':
      result = a !== e;
      break;
    case 'co':
      result = typeof a === 'string' && typeof e === 'string' && a.includes(e);
      break;
    case 'sw':
      result = typeof a === 'string' && typeof e === 'string' && a.startsWith(e);
      break;
    case 'ew':
      result = typeof a === 'string' && typeof e === 'string' && a.endsWith(e);
      break;
    default:
      throw ScimError.invalidFilter(`operator "${node.operator}" cannot be used on ${node.path.attribute}`);
  }
  return result;
}

async function leafFilter(rule: CompiledRule, node: Leaf, context: FilterContext): Promise<DirFilter> {
  const attribute = rule.ldap;
  // Checked before `pr`: presence of a never-returned value (RFC 7643 §7) still tells who has one.
  if (rule.leafDefinition.returned === 'never' || rule.leafDefinition.mutability === 'writeOnly') {
    throw ScimError.invalidFilter(`${rule.key} cannot be used in a filter`);
  }
  if (node.type === 'present') return { type: 'present', attribute };
  if (node.value === null) return nullCompare(node.operator, attribute, rule.key);
  if (rule.references) {
    if (node.operator !== 'eq' && node.operator !== 'ne') {
      throw ScimError.invalidFilter(`only eq and ne can compare ${rule.key}, which holds resource ids`);
    }
    const dn = await context.resolveId(rule.references, String(node.value));
    const equal: DirFilter = dn === undefined ? { type: 'false' } : { type: 'equal', attribute, value: dn };
    return node.operator === 'eq' ? equal : { type: 'not', filter: equal };
  }
  return compareFilter(attribute, node.operator, node.value, rule);
}

function nullCompare(operator: CompareOperator, attribute: string, key: string): DirFilter {
  // `x eq null` reads naturally as "x has no value" (RFC 7643 §2.5: null is unassigned).
  if (operator === 'eq') return { type: 'not', filter: { type: 'present', attribute } };
  if (operator === 'ne') return { type: 'present', attribute };
  throw ScimError.invalidFilter(`operator "${operator}" cannot compare ${key} with null`);
}

function compareFilter(
  attribute: string,
  operator: CompareOperator,
  value: Exclude<FilterValue, null>,
  rule: CompiledRule,
): DirFilter {
  const type = rule.leafDefinition.type;
  // A list kept in one LDAP value (split) compares element-wise, substring operators included.
  if (rule.transform.joinValues && rule.transform.compareFilter) {
    try {
      return rule.transform.compareFilter(attribute, operator, value);
    } catch (error) {
      if (error instanceof TransformError)
        throw ScimError.invalidFilter(`value for ${rule.key}: ${error.message}`);
      throw error;
    }
  }
  const substring = operator === 'co' || operator === 'sw' || operator === 'ew';
  if (substring) {
    if (type !== 'string' && type !== 'reference') {
      throw ScimError.invalidFilter(
        `operator "${operator}" needs a string attribute; ${rule.key} is ${type}`,
      );
    }
    if (typeof value !== 'string')
      throw ScimError.invalidFilter(`operator "${operator}" needs a string value for ${rule.key}`);
    const text = rule.transform.name === 'lowercase' ? value.toLowerCase() : value;
    if (text === '') return { type: 'present', attribute };
    if (operator === 'co') return { type: 'substring', attribute, any: [text] };
    if (operator === 'sw') return { type: 'substring', attribute, initial: text, any: [] };
    return { type: 'substring', attribute, final: text, any: [] };
  }
  if (
    (operator === 'gt' || operator === 'ge' || operator === 'lt' || operator === 'le') &&
    type === 'boolean'
  ) {
    throw ScimError.invalidFilter(`operator "${operator}" cannot be used on the boolean ${rule.key}`);
  }
  let ldapValue: string;
  try {
    // Transforms whose value is not compared by equality (a bit of AD's userAccountControl).
    if (rule.transform.compareFilter) return rule.transform.compareFilter(attribute, operator, value);
    ldapValue = rule.transform.toLdap(value);
  } catch (error) {
    if (error instanceof TransformError)
      throw ScimError.invalidFilter(`value for ${rule.key}: ${error.message}`);
    throw error;
  }
  if (rule.orderingRule && ORDERING_OPERATORS.has(operator))
    return declaredOrdering(rule, operator, ldapValue);
  return orderedCompare(attribute, operator, ldapValue);
}

const ORDERING_OPERATORS: ReadonlySet<CompareOperator> = new Set(['gt', 'ge', 'lt', 'le']);

/** A declared `orderingRule` saying the directory cannot order the attribute at all. */
export const NO_ORDERING = 'none';

/**
 * gt/ge/lt/le through the ordering rule the mapping declares, for LDAP types without an ORDERING
 * rule of their own: OpenLDAP answers `(sn>=w)` on those with no entries at all (issue 14), but
 * evaluates an extensible match `(sn:caseIgnoreOrderingMatch:=w)`, true where the value sorts
 * before `w` (RFC 4511 §4.5.1.7.7, RFC 4517 §4.2). The other three are built from it and equality.
 */
function declaredOrdering(rule: CompiledRule, operator: CompareOperator, value: string): DirFilter {
  const attribute = rule.ldap;
  if (rule.orderingRule === NO_ORDERING) {
    throw ScimError.invalidFilter(
      `operator "${operator}" cannot be used on ${rule.key}: the directory has no ordering for it`,
    );
  }
  const before: DirFilter = { type: 'extensible', attribute, rule: rule.orderingRule as string, value };
  const equal: DirFilter = { type: 'equal', attribute, value };
  const present: DirFilter = { type: 'present', attribute };
  switch (operator) {
    case 'lt':
      return before;
    case 'le':
      return { type: 'or', filters: [before, equal] };
    case 'ge':
      return { type: 'and', filters: [present, { type: 'not', filter: before }] };
    default:
      return {
        type: 'and',
        filters: [present, { type: 'not', filter: before }, { type: 'not', filter: equal }],
      };
  }
}

function orderedCompare(attribute: string, operator: CompareOperator, value: string): DirFilter {
  const equal: DirFilter = { type: 'equal', attribute, value };
  switch (operator) {
    case 'eq':
      return equal;
    case 'ne':
      return { type: 'not', filter: equal };
    case 'ge':
      return { type: 'greaterOrEqual', attribute, value };
    case 'le':
      return { type: 'lessOrEqual', attribute, value };
    // LDAP has no strict ordering (RFC 4511 §4.5.1.7): x > v is x >= v and not x = v.
    case 'gt':
      return {
        type: 'and',
        filters: [
          { type: 'greaterOrEqual', attribute, value },
          { type: 'not', filter: equal },
        ],
      };
    case 'lt':
      return {
        type: 'and',
        filters: [
          { type: 'lessOrEqual', attribute, value },
          { type: 'not', filter: equal },
        ],
      };
    default:
      throw ScimError.invalidFilter(`operator "${operator}" is not supported here`);
  }
}

/** `id eq "<id>"` as a directory filter, without parsing (a lookup by id on every GET/PUT/PATCH). */
export function idEqualsFilter(rt: CompiledResourceType, id: string): DirFilter {
  return idFilter(rt, { type: 'compare', path: { attribute: 'id' }, operator: 'eq', value: id });
}

function idFilter(rt: CompiledResourceType, node: Leaf): DirFilter {
  const attribute = rt.directory.idAttribute;
  if (node.type === 'present') return { type: 'present', attribute };
  if (node.operator !== 'eq' && node.operator !== 'ne')
    throw ScimError.invalidFilter('only eq and ne can compare id');
  const text = typeof node.value === 'string' ? node.value : String(node.value);
  let equal: DirFilter;
  if (attribute === 'objectGUID') {
    const bytes = guidToBytes(text);
    equal = bytes ? { type: 'equal', attribute, value: bytes } : { type: 'false' };
  } else {
    // entryUUID has UUID syntax: anything else cannot match (and would be a syntax error in LDAP).
    equal =
      UUID.test(text) || attribute !== 'entryUUID'
        ? { type: 'equal', attribute, value: text.toLowerCase() }
        : { type: 'false' };
  }
  return node.operator === 'eq' ? equal : { type: 'not', filter: equal };
}

function metaFilter(rt: CompiledResourceType, node: Leaf): DirFilter {
  const sub = node.path.subAttribute?.toLowerCase();
  const attribute =
    sub === 'created'
      ? rt.directory.createdAttribute
      : sub === 'lastmodified'
        ? rt.directory.lastModifiedAttribute
        : undefined;
  if (!attribute)
    throw ScimError.invalidFilter(
      `meta.${node.path.subAttribute ?? ''} cannot be used in a filter; use meta.created or meta.lastModified`,
    );
  if (node.type === 'present') return { type: 'present', attribute };
  if (typeof node.value !== 'string')
    throw ScimError.invalidFilter(`meta.${sub} must be compared with a dateTime string`);
  let value: string;
  try {
    value = TRANSFORMS.get('dateTime')!.toLdap(node.value);
  } catch (error) {
    throw ScimError.invalidFilter(`meta.${node.path.subAttribute}: ${(error as Error).message}`);
  }
  if (node.operator === 'co' || node.operator === 'sw' || node.operator === 'ew') {
    throw ScimError.invalidFilter(`operator "${node.operator}" cannot be used on a dateTime`);
  }
  return orderedCompare(attribute, node.operator, value);
}

function rulesForPath(rt: CompiledResourceType, path: AttributePath): CompiledRule[] {
  const schema = (path.schema ?? rt.coreSchema.id).toLowerCase();
  const attribute = path.attribute.toLowerCase();
  const candidates = rt.rules.filter(
    (r) => r.schema.toLowerCase() === schema && r.attribute.toLowerCase() === attribute,
  );
  if (candidates.length === 0 && !path.schema) {
    // Extension attributes may be named without their URN when the name is unambiguous.
    const others = rt.rules.filter((r) => !r.isCore && r.attribute.toLowerCase() === attribute);
    if (new Set(others.map((r) => r.schema)).size === 1) return filterBySub(others, path);
  }
  return filterBySub(candidates, path);
}

function filterBySub(rules: CompiledRule[], path: AttributePath): CompiledRule[] {
  // `emails co "x"` on a complex multi-valued attribute means its value (RFC 7644 §3.4.2.2).
  const sub = (path.subAttribute ?? (rules.some((r) => r.subAttribute) ? 'value' : '')).toLowerCase();
  return rules.filter((r) => (r.subAttribute ?? '').toLowerCase() === sub);
}

function elementScopes(rt: CompiledResourceType, path: AttributePath): ElementScope[] {
  const schema = (path.schema ?? rt.coreSchema.id).toLowerCase();
  const rules = rt.rules.filter(
    (r) => r.schema.toLowerCase() === schema && r.attribute.toLowerCase() === path.attribute.toLowerCase(),
  );
  const groups = new Map<string, ElementScope>();
  for (const rule of rules) {
    const key = rule.typeValue ?? '';
    const group = groups.get(key) ?? { rules: [], typeValue: rule.typeValue, primary: false };
    group.rules.push(rule);
    group.primary ||= rule.primary;
    groups.set(key, group);
  }
  return [...groups.values()];
}

/**
 * 400 invalidFilter for an attribute this resource type does not map; a query at the server root
 * tells it apart (by type) from other invalid filters and skips the type instead.
 */
export class UnmappedAttributeError extends ScimError {
  constructor(detail: string) {
    super(400, detail, 'invalidFilter');
  }
}

function notFilterable(path: AttributePath): ScimError {
  const name =
    [path.schema, path.attribute].filter(Boolean).join(':') +
    (path.subAttribute ? `.${path.subAttribute}` : '');
  return new UnmappedAttributeError(
    `attribute "${name}" is not mapped to the directory and cannot be filtered on`,
  );
}

/** Removes always-true and always-false branches (lldap's trick): fewer, simpler LDAP filters. */
export function simplify(filter: DirFilter): DirFilter {
  switch (filter.type) {
    case 'and': {
      const parts = filter.filters.map(simplify).filter((f) => f.type !== 'true');
      if (parts.some((f) => f.type === 'false')) return { type: 'false' };
      if (parts.length === 0) return { type: 'true' };
      return parts.length === 1
        ? parts[0]!
        : { type: 'and', filters: parts.flatMap((f) => (f.type === 'and' ? f.filters : [f])) };
    }
    case 'or': {
      const parts = filter.filters.map(simplify).filter((f) => f.type !== 'false');
      if (parts.some((f) => f.type === 'true')) return { type: 'true' };
      if (parts.length === 0) return { type: 'false' };
      return parts.length === 1
        ? parts[0]!
        : { type: 'or', filters: parts.flatMap((f) => (f.type === 'or' ? f.filters : [f])) };
    }
    case 'not': {
      const inner = simplify(filter.filter);
      if (inner.type === 'true') return { type: 'false' };
      if (inner.type === 'false') return { type: 'true' };
      if (inner.type === 'not') return inner.filter;
      return { type: 'not', filter: inner };
    }
    default:
      return filter;
  }
}

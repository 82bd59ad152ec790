/**
 * The SCIM filter and path syntax tree (RFC 7644 §3.4.2.2, §3.5.2) and its printer. Produced by
 * filter.ts, consumed by the mapping layer (filter -> directory filter, PATCH path -> attribute).
 */

/** An attribute reference: `[urn ":"] name ["." subAttribute]`. Names keep the client's case. */
export interface AttributePath {
  /** Schema URN prefix when given (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`). */
  schema?: string;
  attribute: string;
  subAttribute?: string;
}

export type CompareOperator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

/** A literal: string, number, boolean or null (dateTime values arrive as strings). */
export type FilterValue = string | number | boolean | null;

export type FilterNode =
  | { type: 'compare'; path: AttributePath; operator: CompareOperator; value: FilterValue }
  | { type: 'present'; path: AttributePath }
  | { type: 'and'; left: FilterNode; right: FilterNode }
  | { type: 'or'; left: FilterNode; right: FilterNode }
  | { type: 'not'; filter: FilterNode }
  /** `emails[type eq "work" and value co "@x"]`: the inner filter applies to one value of a multi-valued attribute. */
  | { type: 'valuePath'; path: AttributePath; filter: FilterNode };

/**
 * A PATCH path (RFC 7644 §3.5.2): `attrPath` or `valuePath [ "." subAttr ]`.
 * `members[value eq "x"]` has a valueFilter and no subAttribute after the bracket;
 * `emails[type eq "work"].value` has both.
 */
export interface PatchPath {
  path: AttributePath;
  valueFilter?: FilterNode;
  /** Sub-attribute after a value filter (`.value` in `emails[type eq "work"].value`). */
  subAttribute?: string;
}

// Printing (error details, logs): the inverse of the parser (filter.ts) for every tree it produces.

export function formatAttributePath(path: AttributePath): string {
  const name = path.subAttribute === undefined ? path.attribute : `${path.attribute}.${path.subAttribute}`;
  return path.schema === undefined ? name : `${path.schema}:${name}`;
}

function formatValue(value: FilterValue): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

export function formatFilter(node: FilterNode): string {
  switch (node.type) {
    case 'compare':
      return `${formatAttributePath(node.path)} ${node.operator} ${formatValue(node.value)}`;
    case 'present':
      return `${formatAttributePath(node.path)} pr`;
    case 'and':
    case 'or':
      return `(${formatFilter(node.left)} ${node.type} ${formatFilter(node.right)})`;
    case 'not':
      return `not (${formatFilter(node.filter)})`;
    case 'valuePath':
      return `${formatAttributePath(node.path)}[${formatFilter(node.filter)}]`;
  }
}

export function formatPatchPath(path: PatchPath): string {
  let out = formatAttributePath(path.path);
  if (path.valueFilter !== undefined) out += `[${formatFilter(path.valueFilter)}]`;
  if (path.subAttribute !== undefined) out += `.${path.subAttribute}`;
  return out;
}

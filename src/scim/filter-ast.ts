/**
 * The SCIM filter and path syntax tree (RFC 7644 §3.4.2.2, §3.5.2). Produced by filter.ts,
 * consumed by the mapping layer (filter -> directory filter, PATCH path -> attribute).
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

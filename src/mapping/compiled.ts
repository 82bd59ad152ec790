/**
 * The compiled form of a mapping: what the services use at run time. Produced by compile.ts from
 * a validated MappingFile; never written by hand.
 */
import type { DirFilter } from '../ports/directory.ts';
import type { AttributeDefinition, SchemaDefinition } from '../scim/schema-types.ts';
import type { Transform } from './transforms.ts';

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** One `attributes:` entry: a SCIM attribute path and the LDAP attribute that stores it. */
export interface CompiledRule {
  /** The key as written in the file, for messages and previews. */
  key: string;
  location: SourceLocation;
  /** Schema URN the attribute belongs to. */
  schema: string;
  isCore: boolean;
  /** Canonical SCIM attribute name (top level). */
  attribute: string;
  /** Canonical sub-attribute name, when the rule maps one (`name.givenName`, `emails[...].value`). */
  subAttribute?: string;
  /** Value of `type` selecting one element of a multi-valued complex attribute (`emails[type eq "work"]`). */
  typeValue?: string;
  /** Top-level attribute definition (characteristics overridden by the rule where given). */
  attributeDefinition: AttributeDefinition;
  /** Definition of the value the rule maps: the sub-attribute's, or the attribute's own. */
  leafDefinition: AttributeDefinition;
  /** LDAP attribute as written, and lower-cased (DirEntry keys are lower case). */
  ldap: string;
  ldapKey: string;
  transform: Transform;
  /** Resource types whose DNs the LDAP values are (members, groups, manager). */
  references?: string[];
  /** Attribute on referenced entries that points back (memberOf for member). */
  reverse?: string;
  /** Unknown reference ids: a client error, or silently left out. */
  ignoreUnresolved: boolean;
  readOnly: boolean;
  primary: boolean;
  defaultValue?: unknown;
  orderingRule?: string;
}

export interface ComputedAttribute {
  ldap: string;
  ldapKey: string;
  /** Alternatives, first present wins: each a list of literal text and SCIM paths. */
  template: string;
  alternatives: string[];
}

export interface CompiledDirectory {
  base: string;
  scope: 'one' | 'sub';
  objectClasses: string[];
  scopeFilter: DirFilter;
  scopeFilterText: string;
  dnTemplate: string;
  /** The RDN attribute of the template (`uid` in `uid={userName},...`) and the SCIM path feeding it. */
  rdnAttribute: string;
  rdnPath: string;
  idAttribute: string;
  versionAttribute: string;
  createdAttribute: string;
  lastModifiedAttribute: string;
  sort: { attribute: string; orderingRule?: string };
  computed: ComputedAttribute[];
  /** The attribute listing fallbacks the bridge wrote (mapping/fallbacks.ts); absent: none kept. */
  fallbackMarker?: string;
  emptyGroupPlaceholder?: string;
  deleteMode: 'delete' | 'disable';
  /** Attributes the directory returns as bytes (objectGUID). */
  binaryAttributes: string[];
  /**
   * Where the settings are written, by dotted key: `directory` (the block itself), `directory.id`,
   * `directory.objectClasses.0`, `directory.sort.attribute`, `directory.computed.cn`, ... Settings
   * left to their defaults have no entry; messages about them point at `directory`.
   */
  locations?: Record<string, SourceLocation>;
}

export interface CompiledResourceType {
  name: string;
  endpoint: string;
  description: string;
  file: string;
  /** Core schema, reduced to what is mapped (what /Schemas publishes). */
  coreSchema: SchemaDefinition;
  extensions: { schema: SchemaDefinition; required: boolean }[];
  directory: CompiledDirectory;
  rules: CompiledRule[];
  patchResponse: 200 | 204;
}

export interface MappingSet {
  resourceTypes: CompiledResourceType[];
  /** Every schema published by /Schemas (core and extensions of all resource types, de-duplicated). */
  schemas: SchemaDefinition[];
  /** Directory the set was loaded from, and when. */
  source: string;
  loadedAt: Date;
}

/** The SCIM path a rule maps, as templates name it: `userName`, `name.givenName`, `emails`. */
export function rulePath(rule: CompiledRule): string {
  if (rule.typeValue !== undefined) return rule.attribute;
  return rule.subAttribute ? `${rule.attribute}.${rule.subAttribute}` : rule.attribute;
}

/** Whether a template placeholder names a rule's value, short or schema-URN-qualified (RFC 7644 §3.10). */
export function ruleMatchesPath(rule: CompiledRule, path: string): boolean {
  const wanted = path.toLowerCase();
  const own = rulePath(rule).toLowerCase();
  return wanted === own || wanted === `${rule.schema.toLowerCase()}:${own}`;
}

export function findResourceTypeByEndpoint(
  set: MappingSet,
  segment: string,
): CompiledResourceType | undefined {
  const wanted = segment.toLowerCase();
  return set.resourceTypes.find((rt) => rt.endpoint.slice(1).toLowerCase() === wanted);
}

export function findResourceTypeByName(set: MappingSet, name: string): CompiledResourceType | undefined {
  const wanted = name.toLowerCase();
  return set.resourceTypes.find((rt) => rt.name.toLowerCase() === wanted);
}

/** The attribute name events carry for a rule: `displayName`, `name.givenName`, `urn:...:employeeNumber`. */
export function rulePathName(rule: CompiledRule): string {
  const local =
    rule.subAttribute && rule.typeValue === undefined
      ? `${rule.attribute}.${rule.subAttribute}`
      : rule.attribute;
  return rule.isCore ? local : `${rule.schema}:${local}`;
}

/** The rule of a group's writable member list (docs/architecture.md §Membership), if the type has one. */
export function membershipRule(rt: CompiledResourceType): CompiledRule | undefined {
  return rt.rules.find(
    (r) => r.references && !r.readOnly && r.attribute === 'members' && r.attributeDefinition.multiValued,
  );
}

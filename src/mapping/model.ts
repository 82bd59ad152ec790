/**
 * The mapping language as written in mappings/*.yaml (validated against mappings/mapping.schema.json).
 * One file describes one SCIM resource type and how its attributes land in the directory.
 */
export interface MappingFile {
  resourceType: string;
  endpoint: string;
  description?: string;
  schema: string;
  extensions?: { schema: string; required?: boolean }[];
  /** Custom schemas declared in the file (for custom extension URNs). */
  customSchemas?: CustomSchemaSpec[];
  directory: DirectorySpec;
  attributes: Record<string, AttributeRuleSpec>;
  /** HTTP status for a successful PATCH: 200 with the resource, or 204 (Entra expects 204 for groups). */
  patchResponse?: 200 | 204;
}

export interface DirectorySpec {
  base: string;
  scope?: 'one' | 'sub';
  objectClasses: string[];
  /** LDAP filter (RFC 4515 text, written by the admin) that selects the entries of this resource type. */
  filter: string;
  /** DN of a new entry; `{path}` placeholders are SCIM attribute paths, RDN-escaped (RFC 4514). */
  dnTemplate: string;
  /** Entry attribute that holds the stable SCIM id. */
  id: 'entryUUID' | 'objectGUID' | 'nsUniqueId' | 'ipaUniqueID';
  /** Entry attribute that changes on every write; becomes meta.version (the ETag). */
  version: 'entryCSN' | 'uSNChanged' | 'modifyTimestamp';
  created?: string;
  lastModified?: string;
  /** Default sort for offset paging (VLV needs one), with its ordering rule. */
  sort?: { attribute: string; orderingRule?: string };
  /** LDAP attributes computed from SCIM values when the entry is written (e.g. cn, sn required by the object class). */
  computed?: Record<string, string>;
  /**
   * Multi-valued attribute the bridge owns, listing what it filled in that no client sent (a
   * computed fallback's attribute name; `primary:<attribute>`), so that it is not read back.
   */
  fallbackMarker?: string;
  /** DELETE removes the entry, or disables it (active=false) and removes its memberships. */
  deleteMode?: 'delete' | 'disable';
  /** groupOfNames needs at least one member (RFC 4519 §3.5): this DN stands in while a group is empty. */
  emptyGroupPlaceholder?: string;
}

export interface CustomSchemaSpec {
  id: string;
  name: string;
  description?: string;
  attributes: CustomAttributeSpec[];
}

export interface CustomAttributeSpec {
  name: string;
  type: 'string' | 'boolean' | 'integer' | 'decimal' | 'dateTime' | 'reference' | 'binary';
  multiValued?: boolean;
  description?: string;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned?: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server' | 'global';
}

export interface AttributeRuleSpec {
  /** The LDAP attribute that holds the value. */
  ldap: string;
  /** Named transform between the SCIM and the LDAP representation (never code). */
  transform?: string;
  /** With `transform: split`: the text between the elements of the list in the one LDAP value (default ","). */
  separator?: string;
  /** Value written on create when the client sends none (a SCIM value). */
  default?: unknown;
  /** References: the resource type(s) whose entries the DNs in `ldap` point at. */
  references?: string | string[];
  /** The attribute on referenced entries pointing back (memberOf for member): resolve with one search. */
  reverse?: string;
  /** An id that matches no entry: 400 (reject, the default) or left out (ignore). */
  unresolved?: 'reject' | 'ignore';
  /** Read-only reverse of a membership (groups <- memberOf). */
  readOnly?: boolean;
  /** Marks the value of a multi-valued complex attribute selected by type as primary. */
  primary?: boolean;
  /** Overrides of the SCIM attribute characteristics (RFC 7643 §2.2). */
  caseExact?: boolean;
  required?: boolean;
  uniqueness?: 'none' | 'server' | 'global';
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned?: 'always' | 'never' | 'default' | 'request';
  /**
   * Ordering rule for sortBy and gt/ge/lt/le filters on this attribute (uid and cn have none of
   * their own in OpenLDAP); `none`: the directory cannot order it, so both are refused with 400.
   */
  orderingRule?: string;
}

/**
 * The directory port: what the services need from an LDAP-like store, in neutral types.
 * Implemented by src/ldap (ldapts). Nothing here knows about SCIM or about ldapts.
 */

/** A value as stored in the directory: text, or raw bytes for binary syntaxes (objectGUID). */
export type DirValue = string | Buffer;

/** One directory entry. Attribute names are lower-cased: LDAP descriptors are case-insensitive (RFC 4512 §1.4). */
export interface DirEntry {
  dn: string;
  attributes: Record<string, DirValue[]>;
}

/**
 * A search filter as a tree. The LDAP adapter turns it into ldapts Filter objects, which escape
 * every value per RFC 4515; no code builds filter strings by concatenation.
 */
export type DirFilter =
  | { type: 'and'; filters: DirFilter[] }
  | { type: 'or'; filters: DirFilter[] }
  | { type: 'not'; filter: DirFilter }
  | { type: 'equal'; attribute: string; value: DirValue }
  | { type: 'substring'; attribute: string; initial?: string; any: string[]; final?: string }
  | { type: 'greaterOrEqual'; attribute: string; value: string }
  | { type: 'lessOrEqual'; attribute: string; value: string }
  | { type: 'present'; attribute: string }
  /** Extensible match (RFC 4511 §4.5.1.7.7), e.g. AD's bitwise-AND rule on userAccountControl. */
  | { type: 'extensible'; attribute: string; rule: string; value: string }
  | { type: 'true' }
  | { type: 'false' };

export type SearchScope = 'base' | 'one' | 'sub';

export interface SortKey {
  attribute: string;
  /** Ordering matching rule; OpenLDAP's uid and cn have none of their own (caseIgnoreOrderingMatch). */
  orderingRule?: string;
  reverse?: boolean;
}

/** Which part of the result set a search returns. */
export type PageRequest =
  /** 1-based offset window; served by server-side sort + VLV when offered, else by paging through. */
  | { kind: 'offset'; startIndex: number; count: number }
  /**
   * A page of a walk through the result (RFC 9865 cursors): `session` is the adapter's handle from
   * the previous page (RFC 2696 paged-results state it may still hold), `startIndex` the 1-based
   * position the page starts at, used when the handle cannot serve (the page then comes from the
   * offset path in the same order: the sort keys' when given, else the directory's own), `total`
   * the count the first page reported. The first page (no total) counts the matches.
   */
  | {
      kind: 'cursor';
      session?: string;
      startIndex: number;
      count: number;
      total?: number;
      /** Sort keys the adapter may count with (a VLV content count) when the walk itself is unsorted. */
      countOrder?: SortKey[];
    };

/**
 * The request's deadline (lib/deadline.ts, a performance.now() instant): the call does not start
 * after it and is abandoned at it. Absent outside a request (start-up, workers): no deadline.
 */
export interface CallOptions {
  deadlineAt?: number | undefined;
}

export interface SearchRequest extends CallOptions {
  base: string;
  scope: SearchScope;
  filter: DirFilter;
  /** Attributes to return; an empty list asks for none ("1.1", RFC 4511 §4.5.1.8). */
  attributes: string[];
  /** Attributes whose values must be returned as bytes. */
  binaryAttributes?: string[];
  sort?: SortKey[];
  /**
   * The caller expects few matches (an equality on a unique attribute): for an offset page the
   * adapter first tries one sorted search without VLV, which holds no server-side state, and
   * uses VLV only when that finds too many.
   */
  expectFew?: boolean;
  page?: PageRequest;
  /**
   * Hard upper bound on entries for an unpaged search: when more entries match, the search fails
   * with TooManyResultsError instead of returning a truncated list. Without it (and without a page),
   * the directory's own size limit applies the same way. Ignored when `page` is given.
   */
  sizeLimit?: number;
  /**
   * Hands each entry (ranged values completed) to this visitor as it arrives instead of collecting
   * them: `entries` of the result is then empty and `total` counts what was visited. For walks over
   * very many entries (a group's 100,000 members) that the caller reduces as it goes.
   */
  each?: (entry: DirEntry) => void;
}

export interface SearchResult {
  entries: DirEntry[];
  /** Total number of matching entries when the directory could tell (VLV contentCount) or it was counted. */
  total?: number;
  /** Cursor paging: the handle that continues this walk on the next page, while the adapter holds it. */
  session?: string;
}

export interface DirChange {
  operation: 'add' | 'delete' | 'replace';
  attribute: string;
  /** For delete: empty means "all values". */
  values: DirValue[];
}

export interface WriteOptions extends CallOptions {
  /** RFC 4528 assertion: the write happens only if the entry still matches this filter, atomically. */
  assertion?: DirFilter;
  /**
   * Attributes to read back from the entry as the write left it (RFC 4527 post-read control), so
   * a write needs one round trip, not two. Ignored by delete. When the directory does not offer
   * the control, the adapter reads the entry after the write instead.
   */
  returnAttributes?: string[];
  binaryAttributes?: string[];
  /**
   * A modify's `add`s mean "make these values present": a value the entry already holds (a
   * concurrent write added it first) is dropped and the modify sent again, instead of failing
   * with attributeOrValueExists. The use cases set it: every value they add (a missing auxiliary
   * class, a placeholder or new member) is such a value (issue 14).
   */
  addsMayExist?: boolean;
}

/** What the directory's rootDSE advertises, as far as the bridge cares. */
export interface DirectoryCapabilities {
  vendor: 'openldap' | '389ds' | 'activeDirectory' | 'unknown';
  pagedResults: boolean;
  serverSideSort: boolean;
  virtualListView: boolean;
  assertion: boolean;
  postRead: boolean;
  /**
   * The longest RDN (`attr=value`, UTF-8 bytes) the directory can store, where it has a limit
   * below what a client might send (OpenLDAP back-mdb: see ldap/root-dse.ts). Absent: none known.
   */
  maxRdnBytes?: number;
}

/**
 * The directory's schema as far as mapping checks need it, read from its subschema subentry
 * (RFC 4512 §4.2): every name (NAME and its aliases) and the numeric OID of each attribute type
 * and object class, as the directory spells them. Names compare case-insensitively (RFC 4512 §1.4).
 */
export interface DirectorySubschema {
  /** DN of the subschema subentry that was read, for messages. */
  source: string;
  attributeTypes: readonly string[];
  objectClasses: readonly string[];
}

export interface Directory {
  search(request: SearchRequest): Promise<SearchResult>;
  /** Reads one entry by DN; undefined when it does not exist. */
  read(
    dn: string,
    attributes: string[],
    binaryAttributes?: string[],
    options?: CallOptions,
  ): Promise<DirEntry | undefined>;
  /** Adds an entry; returns it as written when options.returnAttributes is given. */
  add(
    dn: string,
    attributes: Record<string, DirValue[]>,
    options?: WriteOptions,
  ): Promise<DirEntry | undefined>;
  /** Applies all changes in ONE modify operation (atomic, RFC 4511 §4.6). */
  modify(dn: string, changes: DirChange[], options?: WriteOptions): Promise<DirEntry | undefined>;
  /** modifyDN (RFC 4511 §4.9): the entry keeps its entryUUID. */
  rename(dn: string, newDn: string, options?: CallOptions): Promise<void>;
  delete(dn: string, options?: WriteOptions): Promise<void>;
  /** The rootDSE's advertised controls, read once and cached. */
  capabilities(): Promise<DirectoryCapabilities>;
  /**
   * The directory's schema, read afresh on every call (an admin may load a schema, then fix a
   * mapping). undefined when the directory does not let the bridge read it (no subschema subentry,
   * access denied, attributes hidden); throws UnavailableError when the directory is unreachable.
   */
  subschema(): Promise<DirectorySubschema | undefined>;
  /** Cheap liveness probe of the directory (a rootDSE read). */
  ping(): Promise<void>;
  /**
   * Ends every result kept for reuse (sorted lists), as a write through this instance does:
   * another instance wrote (docs/architecture.md §Kept sorted lists and caches).
   */
  endKeptResults?(): void;
  close(): Promise<void>;
}

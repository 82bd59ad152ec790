/**
 * What every resource use case shares: the service context (directory, mappings, limits, journal,
 * reference cache), the request context, and the small helpers each of them needs: the lookup of
 * a resource type by name, the search set-up of a resource type, the id lookup, the error guard.
 */
import type { CompiledResourceType, MappingSet } from '../../mapping/compiled.ts';
import { findResourceTypeByName } from '../../mapping/compiled.ts';
import type { ScimObject } from '../../mapping/convert.ts';
import { idEqualsFilter, simplify } from '../../mapping/filter.ts';
import type { DirEntry, Directory, DirFilter, SearchRequest, SearchResult } from '../../ports/directory.ts';
import { TooManyResultsError } from '../../ports/errors.ts';
import type { ChangeJournal } from '../../ports/events.ts';
import type { IdempotencyClaim } from '../../ports/idempotency.ts';
import { ScimError } from '../../scim/errors.ts';
import type { Projection } from '../../scim/projection.ts';
import { toScimError } from '../errors.ts';
import type { ReferenceCache } from '../reference-cache.ts';

export interface RequestContext {
  /** Absolute SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2 (for Location and $ref). */
  baseUrl: string;
  /** Who is asking (token name), for logs and events. */
  actor: string;
  /**
   * The request's deadline (lib/deadline.ts; docs/architecture.md §Deadlines), passed to every
   * directory call made for it. Absent: no deadline (a call outside any HTTP request).
   */
  deadlineAt?: number | undefined;
  /** The request's Idempotency-Key claim, recorded with its journaled write (docs/architecture.md §Idempotency). */
  idempotency?: IdempotencyClaim | undefined;
}

export interface Limits {
  defaultPageSize: number;
  maxPageSize: number;
  maxFilterLength: number;
  /** Most operations in one PATCH (RFC 7644 §3.12 tooMany); absent: unbounded (CLI preview, tests). */
  patchMaxOperations?: number;
  /** Upper bound on member values read for one group in one response. */
  maxMembersReturned: number;
}

/** What a write's response needs: a projection (`attributes`), or no body at all (204). */
export interface ResponseShape {
  projection?: Projection;
  body?: boolean;
}

/** A precondition from If-Match (RFC 7644 §3.14); '*' means "exists". */
export type Precondition = { ifMatch?: string };

export interface ResourceResult {
  resource: ScimObject;
  version?: string;
  location: string;
}

/** The state every use case works with: one per ResourceService. */
export interface ServiceContext {
  directory: Directory;
  mappings: () => MappingSet;
  limits: Limits;
  /** Where committed changes are recorded for delivery to external services; absent: no events. */
  journal?: ChangeJournal | undefined;
  references: ReferenceCache;
  /** One request's Idempotency-Key claim (set by withinRequest), journaled with its write. */
  idempotency?: IdempotencyClaim | undefined;
}

/**
 * The service context as one request's use case sees it: its directory calls carry the request's
 * deadline. The use cases then pass `svc.directory` on as they would, with no deadline argument.
 */
export function withinRequest(svc: ServiceContext, ctx: RequestContext): ServiceContext {
  const { deadlineAt, idempotency } = ctx;
  if (deadlineAt === undefined && idempotency === undefined) return svc;
  return {
    ...svc,
    ...(deadlineAt === undefined ? {} : { directory: directoryWithin(svc.directory, deadlineAt) }),
    ...(idempotency === undefined ? {} : { idempotency }),
  };
}

/** `directory` with `deadlineAt` added to each call that does directory work for a request. */
function directoryWithin(directory: Directory, deadlineAt: number): Directory {
  return {
    search: (request) => directory.search({ ...request, deadlineAt }),
    read: (dn, attributes, binaryAttributes, options) =>
      directory.read(dn, attributes, binaryAttributes, { ...options, deadlineAt }),
    add: (dn, attributes, options) => directory.add(dn, attributes, { ...options, deadlineAt }),
    modify: (dn, changes, options) => directory.modify(dn, changes, { ...options, deadlineAt }),
    rename: (dn, newDn, options) => directory.rename(dn, newDn, { ...options, deadlineAt }),
    delete: (dn, options) => directory.delete(dn, { ...options, deadlineAt }),
    capabilities: () => directory.capabilities(),
    subschema: () => directory.subschema(),
    ping: () => directory.ping(),
    endKeptResults: () => directory.endKeptResults?.(),
    close: () => directory.close(),
  };
}

/** The resource type of that name in the mappings now in service. */
export function resourceTypeNamed(svc: ServiceContext, name: string): CompiledResourceType | undefined {
  return findResourceTypeByName(svc.mappings(), name);
}

/** The resource types among `names` that are mapped now (a reference rule's targets). */
export function resourceTypesNamed(svc: ServiceContext, names: readonly string[]): CompiledResourceType[] {
  return names.flatMap((name) => resourceTypeNamed(svc, name) ?? []);
}

export type SearchOptions = Omit<SearchRequest, 'base' | 'scope' | 'filter' | 'attributes'> & {
  /** Remove always-true/false branches from the combined filter (list queries). */
  simplify?: boolean;
};

/** `filter` limited to the entries of `rt` (its scope filter), optionally simplified. */
export function scopedFilter(rt: CompiledResourceType, filter: DirFilter, simplified: boolean): DirFilter {
  const scoped: DirFilter = { type: 'and', filters: [rt.directory.scopeFilter, filter] };
  return simplified ? simplify(scoped) : scoped;
}

/**
 * The search for the entries of one resource type that match `filter`: its base, scope and scope
 * filter, and its binary attributes whenever values are read.
 */
export function searchRequestIn(
  rt: CompiledResourceType,
  filter: DirFilter,
  attributes: string[],
  options: SearchOptions = {},
): SearchRequest {
  const { simplify: simplified, ...rest } = options;
  return {
    base: rt.directory.base,
    scope: rt.directory.scope,
    filter: scopedFilter(rt, filter, simplified === true),
    attributes,
    ...(attributes.length > 0 ? { binaryAttributes: rt.directory.binaryAttributes } : {}),
    ...rest,
  };
}

export function searchIn(
  svc: ServiceContext,
  rt: CompiledResourceType,
  filter: DirFilter,
  attributes: string[],
  options: SearchOptions = {},
): Promise<SearchResult> {
  return svc.directory.search(searchRequestIn(rt, filter, attributes, options));
}

/** Lists usually this small (a user's groups) are read with one plain search; larger ones are paged. */
const UNPAGED_SEARCH_LIMIT = 100;

/**
 * All entries of `rt` matching a search that is usually small (a user's groups, a group's
 * members): one plain search first; only when the directory's size limit stops it, a paged walk
 * (which holds a connection). `each` visits entries as they arrive (the result is then empty).
 */
export async function searchAll(
  svc: ServiceContext,
  rt: CompiledResourceType,
  filter: DirFilter,
  attributes: string[],
  each?: (entry: DirEntry) => void,
): Promise<SearchResult> {
  const request = searchRequestIn(rt, filter, attributes);
  let small: SearchResult;
  try {
    small = await svc.directory.search({ ...request, sizeLimit: UNPAGED_SEARCH_LIMIT });
  } catch (error) {
    if (!(error instanceof TooManyResultsError)) throw error;
    const count = svc.limits.maxMembersReturned;
    return svc.directory.search({
      ...request,
      page: { kind: 'offset', startIndex: 1, count },
      ...(each ? { each } : {}),
    });
  }
  if (!each) return small;
  for (const entry of small.entries) each(entry);
  return { entries: [], total: small.entries.length };
}

/** The entry of `rt` with this SCIM id, or undefined. */
export async function findById(
  svc: ServiceContext,
  rt: CompiledResourceType,
  id: string,
  attributes: string[],
): Promise<DirEntry | undefined> {
  const idFilter = idEqualsFilter(rt, id);
  if (idFilter.type === 'false') return undefined;
  const result = await searchIn(svc, rt, idFilter, attributes, { sizeLimit: 2 });
  return result.entries[0];
}

/** findById for a use case that needs the entry: 404 when there is none. */
export async function requireById(
  svc: ServiceContext,
  rt: CompiledResourceType,
  id: string,
  attributes: string[],
): Promise<DirEntry> {
  const entry = await findById(svc, rt, id, attributes);
  if (!entry) throw ScimError.notFound(`${rt.name} "${id}" not found`);
  return entry;
}

/** Runs a use case, turning port errors into SCIM errors in one place. */
export async function guard<T>(rt: CompiledResourceType, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toScimError(error, rt.name, (ldap) => rt.rules.find((r) => r.ldapKey === ldap.toLowerCase())?.key);
  }
}

/** The parts of a resource type that SCIM body canonicalisation and PATCH need. */
export function shapeOf(rt: CompiledResourceType) {
  return { coreSchema: rt.coreSchema, extensions: rt.extensions };
}

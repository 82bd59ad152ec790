/**
 * A search as the adapter runs it (base, ldapts options, binary attributes, sort keys) and what
 * every way of running it shares: page size, the sort control, the pool's run mode.
 */
import {
  type Filter,
  type SearchOptions,
  ServerSideSortingRequestControl,
  UnknownStatusCodeError,
} from 'ldapts';
import type { SearchRequest, SortKey } from '../ports/directory.ts';
import { lowerCaseSet } from './entries.ts';
import { toLdapFilter } from './filters.ts';
import type { RunMode } from './pool.ts';

/**
 * Page size for simple paged results (RFC 2696). Offset windows walk to the end anyway (to count
 * the total), so big pages mean few round trips; 500 stays under common server maxima
 * (Active Directory's MaxPageSize is 1000).
 */
export const PAGE_SIZE = 500;
/** "No attributes" (RFC 4511 §4.5.1.8). */
export const NO_ATTRIBUTES = '1.1';

export interface Query {
  base: string;
  options: SearchOptions & { filter: Filter; attributes: string[] };
  binary: ReadonlySet<string>;
  sort: SortKey[] | undefined;
  /** The request's deadline (lib/deadline.ts), for the pool's run mode. */
  deadlineAt: number | undefined;
}

export function queryOf(request: SearchRequest): Query {
  return {
    base: request.base,
    options: {
      scope: request.scope,
      filter: toLdapFilter(request.filter),
      attributes: request.attributes.length === 0 ? [NO_ATTRIBUTES] : request.attributes,
      explicitBufferAttributes: request.binaryAttributes ?? [],
    },
    binary: lowerCaseSet(request.binaryAttributes),
    sort: request.sort && request.sort.length > 0 ? request.sort : undefined,
    deadlineAt: request.deadlineAt,
  };
}

/** What makes two searches the same query for a kept sorted list: base, scope, filter and sort keys. */
export function querySignature(query: Query): string {
  return JSON.stringify([query.base, query.options.scope, String(query.options.filter), query.sort ?? []]);
}

/** How the pool runs a search: a sorted one holds sort state on its connection while it runs. */
export function searchMode(query: Query, extra: Partial<RunMode> = {}): RunMode {
  return {
    idempotent: true,
    ...(query.sort ? { sortState: 'released' } : {}),
    deadlineAt: query.deadlineAt,
    ...extra,
  };
}

export function checkWindow(startIndex: number, count: number): void {
  // VLV and SCIM offsets are 1-based (RFC 7644 §3.4.2.4).
  if (!Number.isInteger(startIndex) || startIndex < 1)
    throw new RangeError(`startIndex must be >= 1, got ${startIndex}`);
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be >= 0, got ${count}`);
}

/** RFC 2891, critical: a server that cannot sort as asked fails the search instead of returning unsorted. */
export function sortControl(keys: SortKey[]): ServerSideSortingRequestControl {
  return new ServerSideSortingRequestControl({
    critical: true,
    value: keys.map((key) => ({
      attributeType: key.attribute,
      ...(key.orderingRule ? { orderingRule: key.orderingRule } : {}),
      // reverseOrder is DEFAULT FALSE: encode it only when set (X.690 DER omits defaults).
      ...(key.reverse ? { reverseOrder: true } : {}),
    })),
  });
}

/** The sort control a query sends, if it is sorted. */
export function sortControls(query: Query): ServerSideSortingRequestControl[] {
  return query.sort ? [sortControl(query.sort)] : [];
}

export function checkSortResult(control: ServerSideSortingRequestControl): void {
  const sortResult = control.result?.sortResult ?? 0;
  if (sortResult !== 0) {
    throw new UnknownStatusCodeError(
      sortResult,
      `server-side sort failed${control.result?.attributeType ? ` on ${control.result.attributeType}` : ''}`,
    );
  }
}

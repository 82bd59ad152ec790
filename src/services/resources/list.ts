/**
 * Queries (RFC 7644 §3.4.2): one resource type with index or cursor (RFC 9865) paging, and the
 * server root across every resource type (§3.4.2.1, §3.4.3). See docs/architecture.md §Queries.
 */
import type { CompiledResourceType } from '../../mapping/compiled.ts';
import type { ScimObject } from '../../mapping/convert.ts';
import { NO_ORDERING, translateFilter, UnmappedAttributeError } from '../../mapping/filter.ts';
import type { DirFilter, PageRequest, SortKey } from '../../ports/directory.ts';
import { ScimError } from '../../scim/errors.ts';
import { parseFilter } from '../../scim/filter.ts';
import {
  type CursorState,
  cursorListResult,
  cursorQueryKey,
  decodeCursor,
  type ListResult,
  listResult,
} from '../../scim/list-response.ts';
import type { Projection } from '../../scim/projection.ts';
import type { ListQuery } from '../../scim/search-request.ts';
import {
  guard,
  type Limits,
  type RequestContext,
  type ServiceContext,
  scopedFilter,
  searchIn,
} from './context.ts';
import { readAttributes, toResult } from './read.ts';
import { resolveDn } from './references.ts';

export interface ListRequest {
  resourceType: CompiledResourceType;
  query: ListQuery;
  ctx: RequestContext;
}

/** RFC 7644 §3.4.2.4: startIndex < 1 is 1; count < 0 is 0; count is capped by the server. */
function pageBounds(query: ListQuery, limits: Limits): { startIndex: number; count: number } {
  return {
    startIndex: Math.max(1, Math.trunc(query.startIndex ?? 1)),
    count: Math.min(Math.max(0, Math.trunc(query.count ?? limits.defaultPageSize)), limits.maxPageSize),
  };
}

export function listResources(svc: ServiceContext, request: ListRequest): Promise<ListResult> {
  const { resourceType: rt, query, ctx } = request;
  return guard(rt, async () => {
    // RFC 9865: a cursor stands for a position in the same query; it may not be mixed with startIndex.
    if (query.cursor !== undefined && query.startIndex !== undefined) {
      throw ScimError.badRequest('cursor and startIndex cannot be used together (RFC 9865 §2)');
    }
    // Only cursor paging needs the query's digest (a hash per list request otherwise).
    const queryKey = query.cursor !== undefined ? cursorQueryKey(rt.name, query) : '';
    const cursor = query.cursor !== undefined ? decodeCursor(query.cursor, queryKey) : undefined;
    const bounds = pageBounds(query, svc.limits);
    const startIndex = cursor ? cursor.position : bounds.startIndex;
    const { count } = bounds;
    const filter = await directoryFilter(svc, rt, query.filter);
    const selective = isSelective(rt, filter);
    // Without sortBy the order is the server's choice (RFC 7644 §3.4.2.3): a selective query
    // (a few entries at most) skips the directory's sort; any other keeps the default order so
    // that pages are stable.
    // A cursor walk without sortBy follows the directory's own order: its pages after the first
    // come from one paged search (RFC 2696), which needs no sort of the whole result.
    const sort = (selective || cursor) && !query.sortBy ? undefined : sortKeys(rt, query);
    if (scopedFilter(rt, filter, true).type === 'false') return listResult([], 0, startIndex);
    const projection: Projection = {
      ...(query.attributes ? { attributes: query.attributes } : {}),
      ...(query.excludedAttributes ? { excludedAttributes: query.excludedAttributes } : {}),
    };
    const result = await searchIn(svc, rt, filter, readAttributes(rt, projection), {
      simplify: true,
      ...(sort ? { sort } : {}),
      page: pageRequest(rt, query, { startIndex, count, cursor, sorted: sort !== undefined }),
      ...(selective && !cursor ? { expectFew: true } : {}),
    });
    const resources = await Promise.all(
      result.entries.map(async (entry) => (await toResult(svc, rt, entry, { projection, ctx })).resource),
    );
    const total = result.total ?? resources.length;
    if (!cursor) return listResult(resources, total, startIndex);
    return cursorListResult({ resources, total, startIndex, count, session: result.session, queryKey });
  });
}

/** The SCIM filter in LDAP, for the entries of `rt` (the scope filter is added by searchIn). */
async function directoryFilter(
  svc: ServiceContext,
  rt: CompiledResourceType,
  filter: string | undefined,
): Promise<DirFilter> {
  if (filter === undefined) return { type: 'true' };
  const ast = parseFilter(filter, { maxLength: svc.limits.maxFilterLength });
  return translateFilter(rt, ast, { resolveId: (types, id) => resolveDn(svc, types, id) });
}

function pageRequest(
  rt: CompiledResourceType,
  query: ListQuery,
  page: { startIndex: number; count: number; cursor: CursorState | undefined; sorted: boolean },
): PageRequest {
  const { startIndex, count, cursor } = page;
  if (!cursor) return { kind: 'offset', startIndex, count };
  return {
    kind: 'cursor',
    startIndex,
    count,
    ...(cursor.session ? { session: cursor.session } : {}),
    ...(cursor.total !== undefined ? { total: cursor.total } : {}),
    // The first page counts the matches: the default order lets the directory count them with
    // VLV even when the walk is unsorted.
    ...(cursor.total === undefined && !page.sorted ? { countOrder: sortKeys(rt, query) } : {}),
  };
}

/**
 * A query at the server root (RFC 7644 §3.4.2.1, §3.4.3): every resource type, one directory
 * query each. Results come grouped by resource type (in /ResourceTypes order), sorted within
 * each type; startIndex and count apply to the whole sequence. A type whose mapping cannot
 * express the filter matches nothing; if no type can, the filter is refused.
 */
export async function listAllResources(
  svc: ServiceContext,
  request: { query: ListQuery; ctx: RequestContext },
): Promise<ListResult> {
  const { query, ctx } = request;
  if (query.cursor !== undefined) {
    // RFC 9865 cursors walk one directory search; a root query is one search per type.
    throw ScimError.badRequest(
      'cursor paging is offered per resource type (/Users, /Groups); use startIndex here',
    );
  }
  const { startIndex, count } = pageBounds(query, svc.limits);
  const totals: { rt: CompiledResourceType; total: number }[] = [];
  let refused: ScimError | undefined;
  for (const rt of svc.mappings().resourceTypes) {
    try {
      const counted = await listResources(svc, {
        resourceType: rt,
        query: { ...query, startIndex: 1, count: 0 },
        ctx,
      });
      totals.push({ rt, total: counted.totalResults });
    } catch (error) {
      if (!(error instanceof UnmappedAttributeError)) throw error;
      refused ??= error;
    }
  }
  if (totals.length === 0 && refused) throw refused;
  const resources: ScimObject[] = [];
  let offset = 0; // resources of the types before this one
  for (const { rt, total } of totals) {
    const wantedFrom = startIndex + resources.length; // 1-based position in the whole sequence
    const remaining = count - resources.length;
    if (remaining > 0 && wantedFrom <= offset + total) {
      const page = await listResources(svc, {
        resourceType: rt,
        query: { ...query, startIndex: wantedFrom - offset, count: remaining },
        ctx,
      });
      resources.push(...page.Resources);
    }
    offset += total;
  }
  return listResult(resources, offset, startIndex);
}

/**
 * Whether a filter can match only a few entries: an equality on the id or on an attribute the
 * mapping declares unique (or externalId), possibly AND-ed with anything, or an OR of such.
 */
function isSelective(rt: CompiledResourceType, filter: DirFilter): boolean {
  switch (filter.type) {
    case 'equal': {
      const attribute = filter.attribute.toLowerCase();
      if (attribute === rt.directory.idAttribute.toLowerCase()) return true;
      return rt.rules.some(
        (r) =>
          r.ldapKey === attribute && (r.leafDefinition.uniqueness !== 'none' || r.attribute === 'externalId'),
      );
    }
    case 'and':
      return filter.filters.some((f) => isSelective(rt, f));
    case 'or':
      return filter.filters.length <= 20 && filter.filters.every((f) => isSelective(rt, f));
    default:
      return false;
  }
}

/** sortBy (RFC 7644 §3.4.2.3) as directory sort keys; without it, the mapping's default order. */
function sortKeys(rt: CompiledResourceType, query: ListQuery): SortKey[] {
  const reverse = query.sortOrder === 'descending';
  if (!query.sortBy) {
    const s = rt.directory.sort;
    return [{ attribute: s.attribute, ...(s.orderingRule ? { orderingRule: s.orderingRule } : {}), reverse }];
  }
  const wantedPath = query.sortBy.toLowerCase();
  const rule = rt.rules.find((r) => {
    const p = r.subAttribute ? `${r.attribute}.${r.subAttribute}` : r.attribute;
    return (
      p.toLowerCase() === wantedPath ||
      (r.typeValue !== undefined && r.attribute.toLowerCase() === wantedPath)
    );
  });
  if (!rule || rule.references)
    throw ScimError.invalidValue(`sortBy: "${query.sortBy}" is not a sortable attribute of ${rt.name}`);
  // The mapping says the directory cannot order it (mappings' orderingRule: none).
  if (rule.orderingRule === NO_ORDERING)
    throw ScimError.invalidValue(
      `sortBy: "${query.sortBy}" cannot be sorted: the directory has no ordering for it`,
    );
  return [
    { attribute: rule.ldap, ...(rule.orderingRule ? { orderingRule: rule.orderingRule } : {}), reverse },
  ];
}

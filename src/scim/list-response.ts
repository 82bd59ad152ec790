/**
 * The ListResponse message (RFC 7644 §3.4.2) and the opaque cursors of RFC 9865 cursor paging.
 */
import { createHash } from 'node:crypto';
import { ScimError } from './errors.ts';
import type { ScimObject } from './resource.ts';

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export interface ListResult {
  schemas: [typeof LIST_RESPONSE_SCHEMA];
  totalResults: number;
  startIndex?: number;
  itemsPerPage: number;
  /** RFC 9865: present when cursor paging was asked for and more results follow. */
  nextCursor?: string;
  previousCursor?: string;
  Resources: ScimObject[];
}

/** An index-paged ListResponse (RFC 7644 §3.4.2.4). */
export function listResult(resources: ScimObject[], total: number, startIndex: number): ListResult {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: total,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

/**
 * A cursor-paged ListResponse (RFC 9865 §2): nextCursor while results follow, previousCursor
 * after the first page. A previous page is never a session's next one: it is found by position.
 */
export function cursorListResult(page: {
  resources: ScimObject[];
  total: number;
  startIndex: number;
  count: number;
  session: string | undefined;
  queryKey: string;
}): ListResult {
  const { resources, total, startIndex, count, session, queryKey } = page;
  const next = startIndex + resources.length;
  const previous = Math.max(1, startIndex - count);
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: total,
    itemsPerPage: resources.length,
    ...(resources.length > 0 && next <= total
      ? { nextCursor: encodeCursor({ position: next, total, session }, queryKey) }
      : {}),
    ...(startIndex > 1 ? { previousCursor: encodeCursor({ position: previous, total }, queryKey) } : {}),
    Resources: resources,
  };
}

/**
 * Cursors (RFC 9865) are opaque to clients: the position in the query's result, the total counted
 * on the first page, and the directory's handle for its open paged search (RFC 2696) when it kept
 * one, sealed with a digest of the query so a cursor cannot be replayed against another query.
 * The position alone is enough to answer: a handle that this instance does not hold (another
 * instance issued it, or the session expired) only means the page is found by its position.
 */
export interface CursorState {
  position: number;
  total?: number;
  session?: string | undefined;
}

/** What a cursor is sealed with: the resource type and the query's filter and order. */
export function cursorQueryKey(
  resourceType: string,
  query: { filter?: string; sortBy?: string; sortOrder?: string },
): string {
  return createHash('sha256')
    .update(JSON.stringify([resourceType, query.filter ?? '', query.sortBy ?? '', query.sortOrder ?? '']))
    .digest('base64url')
    .slice(0, 16);
}

export function encodeCursor(state: CursorState, queryKey: string): string {
  return Buffer.from(
    `${state.position}.${state.total ?? ''}.${state.session ?? ''}.${queryKey}`,
    'utf8',
  ).toString('base64url');
}

/** "" is the first page (RFC 9865 §2.1); anything else must be a cursor issued for this query. */
export function decodeCursor(cursor: string, queryKey: string): CursorState {
  if (cursor === '') return { position: 1 };
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^(\d{1,15})\.(\d{0,15})\.([A-Za-z0-9_-]{0,64})\.(.+)$/.exec(text);
  if (!match || match[4] !== queryKey || Number(match[1]) < 1) {
    throw ScimError.invalidCursor('the cursor is not one this server issued for this query');
  }
  return {
    position: Number(match[1]),
    ...(match[2] ? { total: Number(match[2]) } : {}),
    ...(match[3] ? { session: match[3] } : {}),
  };
}

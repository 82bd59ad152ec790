/**
 * List queries (RFC 7644 §3.4.2): from a URL's query string and from a SearchRequest body
 * (POST .search, §3.4.3), into one ListQuery. Used by the HTTP routes and by `preview`.
 */
import { parse as parseQueryString } from 'node:querystring';
import { ScimError } from './errors.ts';
import { type Projection, parseAttributeList } from './projection.ts';
import { isPlainObject } from './resource.ts';
import { sameUrn } from './schema-defs.ts';

export const SEARCH_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

export interface ListQuery extends Projection {
  filter?: string;
  startIndex?: number;
  count?: number;
  sortBy?: string;
  sortOrder?: 'ascending' | 'descending';
  /** RFC 9865 cursor paging: "" for the first page, then a nextCursor from the previous page. */
  cursor?: string;
}

/** A query string's parameters by lower-cased name, each with every value given. */
export type QueryParameters = ReadonlyMap<string, readonly string[]>;

/**
 * Parameter names are case-insensitive in practice (Okta sends startIndex, some clients
 * startindex), so they are keyed in lower case: `count=1&Count=2` gives count twice.
 */
export function queryParameters(querystring: string): QueryParameters {
  const parameters = new Map<string, string[]>();
  if (querystring === '') return parameters;
  const parsed = parseQueryString(querystring);
  for (const name in parsed) {
    const value = parsed[name];
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const values = parameters.get(key);
    if (values) values.push(...(typeof value === 'string' ? [value] : value));
    else parameters.set(key, typeof value === 'string' ? [value] : [...value]);
  }
  return parameters;
}

function single(query: QueryParameters, name: string): string | undefined {
  const values = query.get(name.toLowerCase());
  if (values && values.length > 1) {
    throw ScimError.invalidValue(`query parameter ${name} was given more than once`);
  }
  return values?.[0];
}

/** RFC 7644 §3.4.2.4: startIndex and count are integers, written in decimal. */
const DECIMAL_INTEGER = /^-?[0-9]+$/;

/**
 * Only a decimal integer is read: `Number()` would also take `0x10`, `1e1`, `0b1` and
 * surrounding blanks, each a different number from what a reader of the text sees.
 */
function integerParam(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && DECIMAL_INTEGER.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw ScimError.invalidValue(`${name} must be a decimal integer, got ${JSON.stringify(value)}`);
  return n;
}

function sortOrderOf(value: unknown): 'ascending' | 'descending' {
  const v = String(value).toLowerCase();
  if (v === 'ascending' || v === 'descending') return v;
  throw ScimError.invalidValue(`sortOrder must be "ascending" or "descending", got ${JSON.stringify(value)}`);
}

/** `attributes` and `excludedAttributes` (RFC 7644 §3.9) from a query string. */
export function projectionFromUrl(query: QueryParameters): Projection {
  const attributes = parseAttributeList(single(query, 'attributes'), 'attributes');
  const excludedAttributes = parseAttributeList(single(query, 'excludedAttributes'), 'excludedAttributes');
  return { ...(attributes ? { attributes } : {}), ...(excludedAttributes ? { excludedAttributes } : {}) };
}

export function listQueryFromUrl(query: QueryParameters): ListQuery {
  const out: ListQuery = projectionFromUrl(query);
  const filter = single(query, 'filter');
  if (filter !== undefined) out.filter = filter;
  const startIndex = integerParam(single(query, 'startIndex'), 'startIndex');
  if (startIndex !== undefined) out.startIndex = startIndex;
  const count = integerParam(single(query, 'count'), 'count');
  if (count !== undefined) out.count = count;
  const cursor = single(query, 'cursor');
  if (cursor !== undefined) out.cursor = cursor;
  const sortBy = single(query, 'sortBy');
  if (sortBy) out.sortBy = sortBy;
  const sortOrder = single(query, 'sortOrder');
  if (sortOrder) out.sortOrder = sortOrderOf(sortOrder);
  return out;
}

function optionalString(request: Record<string, unknown>, name: string): string | undefined {
  const value = request[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw ScimError.invalidValue(`${name} must be a string`);
  return value;
}

/** RFC 7644 §3.4.3: the same query as a POST body. */
export function listQueryFromSearchRequest(body: unknown): ListQuery {
  if (!isPlainObject(body)) throw ScimError.invalidSyntax('a SearchRequest object is required');
  const schemas = body.schemas;
  if (
    !Array.isArray(schemas) ||
    !schemas.some((s) => typeof s === 'string' && sameUrn(s, SEARCH_REQUEST_SCHEMA))
  ) {
    throw ScimError.invalidSyntax(`schemas must contain ${SEARCH_REQUEST_SCHEMA}`);
  }
  const out: ListQuery = {};
  const attributes = parseAttributeList(body.attributes, 'attributes');
  if (attributes) out.attributes = attributes;
  const excluded = parseAttributeList(body.excludedAttributes, 'excludedAttributes');
  if (excluded) out.excludedAttributes = excluded;
  const filter = optionalString(body, 'filter');
  if (filter !== undefined) out.filter = filter;
  const startIndex = integerParam(body.startIndex, 'startIndex');
  if (startIndex !== undefined) out.startIndex = startIndex;
  const count = integerParam(body.count, 'count');
  if (count !== undefined) out.count = count;
  const sortBy = optionalString(body, 'sortBy');
  if (sortBy !== undefined) out.sortBy = sortBy;
  if (body.sortOrder !== undefined) out.sortOrder = sortOrderOf(body.sortOrder);
  const cursor = optionalString(body, 'cursor');
  if (cursor !== undefined) out.cursor = cursor;
  return out;
}

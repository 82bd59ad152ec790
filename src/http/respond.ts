import { Readable } from 'node:stream';
import type { Context } from 'koa';
import { SCIM_CONTENT_TYPE } from './middleware/errors.ts';
import type { RequestOrigin } from './middleware/origin.ts';

export function sendScim(
  ctx: Context,
  status: number,
  body: unknown,
  headers: { location?: string; etag?: string } = {},
): void {
  ctx.status = status;
  if (headers.location) ctx.set('Location', headers.location);
  if (headers.etag) ctx.set('ETag', headers.etag);
  if (body === undefined) {
    ctx.body = null;
    return;
  }
  // Serialised here with the header set directly: Koa's type setter does a MIME look-up per response.
  ctx.set('Content-Type', SCIM_CONTENT_TYPE);
  ctx.body = hasLongArray(body, 2)
    ? Readable.from(jsonChunks(body), { objectMode: false })
    : JSON.stringify(body);
}

/** Arrays longer than this (a big group's members) are written in slices, not as one string. */
const LONG_ARRAY = 2_000;
const SLICE = 1_000;

function hasLongArray(value: unknown, depth: number): boolean {
  if (Array.isArray(value)) return value.length > LONG_ARRAY;
  if (depth === 0 || value === null || typeof value !== 'object') return false;
  // A plain loop: this runs for every response body.
  for (const key in value) {
    if (hasLongArray((value as Record<string, unknown>)[key], depth - 1)) return true;
  }
  return false;
}

/**
 * The JSON text of `value` in pieces, long arrays a slice at a time, so that a 100,000-member
 * group is never one 16 MB string plus its 16 MB buffer. Same text as JSON.stringify.
 */
export function* jsonChunks(value: unknown): Generator<string> {
  if (Array.isArray(value) && value.length > LONG_ARRAY) {
    yield '[';
    for (let i = 0; i < value.length; i += SLICE) {
      const text = JSON.stringify(value.slice(i, i + SLICE));
      yield (i === 0 ? '' : ',') + text.slice(1, -1);
    }
    yield ']';
    return;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !hasLongArray(value, 2)) {
    yield JSON.stringify(value) ?? 'null';
    return;
  }
  yield '{';
  let first = true;
  for (const [key, member] of Object.entries(value)) {
    if (member === undefined || typeof member === 'function') continue;
    yield `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    yield* jsonChunks(member);
  }
  yield '}';
}

/** The SCIM base URL as the client sees it: configured, or derived from the request. */
export function baseUrlOf(ctx: Context, basePath: string, publicBaseUrl: string | undefined): string {
  if (publicBaseUrl) return publicBaseUrl.replace(/\/+$/, '');
  // Set by middleware/origin.ts: the checked Host, and X-Forwarded-* only from trusted proxies.
  const origin = ctx.state.origin as RequestOrigin;
  return `${origin.protocol}://${origin.host}${basePath}`;
}

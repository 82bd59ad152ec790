import type { Context } from 'koa';
import { SCIM_CONTENT_TYPE } from './middleware/errors.ts';

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
  ctx.body = JSON.stringify(body);
}

/** The SCIM base URL as the client sees it: configured, or derived from the request. */
export function baseUrlOf(ctx: Context, basePath: string, publicBaseUrl: string | undefined): string {
  if (publicBaseUrl) return publicBaseUrl.replace(/\/+$/, '');
  return `${ctx.protocol}://${ctx.host}${basePath}`;
}

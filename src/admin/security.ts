/**
 * The console's request guards (docs/architecture.md §Admin console): the headers of every
 * answer, the form reader, the same-origin check and the CSRF token comparison (OWASP CSRF
 * prevention: a synchronizer token plus an Origin/Referer check), and the local-path rule for
 * where to go after sign-in (no open redirect).
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { AdminProblem } from './page.ts';

/** No inline script or style anywhere: a injected tag can neither run nor restyle the page. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Headers of every /admin answer; pages are never cached (they show live state and a CSRF token). */
export function setSecurityHeaders(ctx: Context): void {
  ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  ctx.set('X-Content-Type-Options', 'nosniff');
  // same-origin, not no-referrer: other sites get no Referer either way, but under no-referrer a
  // browser sends `Origin: null` on the console's own POSTs (Fetch §3.1 "serializing a request
  // origin"), and the Origin check needs the real one.
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
  ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
  ctx.set('Cache-Control', 'no-store');
}

const FORM_TYPE = 'application/x-www-form-urlencoded';
/** Large enough for a pasted SCIM request in a preview form. */
export const MAX_FORM_BYTES = 256 * 1024;

/** A POST's fields; a repeated field or another media type is a 400. */
export async function readAdminForm(ctx: Context): Promise<Record<string, string>> {
  const type = (ctx.get('Content-Type') || '').split(';')[0]?.trim().toLowerCase();
  if (type !== FORM_TYPE) throw new AdminProblem(400, `a form must be sent as ${FORM_TYPE}`);
  if (Number(ctx.get('Content-Length') || '0') > MAX_FORM_BYTES) {
    throw new AdminProblem(413, `the form exceeds ${MAX_FORM_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new AdminProblem(413, `the form exceeds ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const fields: Record<string, string> = Object.create(null);
  for (const [key, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
    if (Object.hasOwn(fields, key)) throw new AdminProblem(400, `the form field "${key}" is repeated`);
    fields[key] = value;
  }
  return fields;
}

/** Constant-time equality of two strings of any length (compared as SHA-256 digests). */
export function sameSecret(presented: string, expected: string): boolean {
  const a = hash('sha256', presented, 'buffer');
  const b = hash('sha256', expected, 'buffer');
  return timingSafeEqual(a, b) && expected !== '';
}

/**
 * Why a POST does not come from a page of this origin, or undefined when it does: the Origin
 * header, else the Referer's origin, must be the origin the request was sent to (Fetch §3.2;
 * browsers send Origin on every POST). Neither present is refused too.
 */
export function crossOriginReason(ctx: Context): string | undefined {
  const origin = ctx.state.origin as { protocol: string; host: string } | undefined;
  const own = origin ? `${origin.protocol}://${origin.host}`.toLowerCase() : '';
  const claimed = ctx.get('Origin');
  if (claimed !== '') {
    return claimed.toLowerCase() === own ? undefined : 'the form was sent from another site (Origin)';
  }
  const referer = ctx.get('Referer');
  if (referer === '') return 'the request names no Origin or Referer, so its site is unknown';
  try {
    return new URL(referer).origin.toLowerCase() === own
      ? undefined
      : 'the form was sent from another site (Referer)';
  } catch {
    return 'the Referer is not a URL';
  }
}

/** A console path to return to after sign-in, or the overview: local, under /admin, no scheme or host. */
export function consolePath(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2000) return '/admin';
  const path = next.split('?')[0] ?? '';
  const local = /^\/admin(?:[/?][\x21-\x7e]*)?$/.test(next) && !/[\\]|\/\//.test(next);
  // No dot segments: a browser would resolve /admin/../x to a path outside the console.
  return local && !/\/\.\.?(?:\/|$)|%2e/i.test(path) ? next : '/admin';
}

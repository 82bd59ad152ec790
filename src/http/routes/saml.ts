/**
 * The SAML service-provider endpoints, outside the SCIM base and unauthenticated like any SAML
 * endpoint: /saml/metadata (auth/saml/sp-metadata.ts); with trusted IdPs, SP-initiated Web SSO for
 * the admin console (auth/saml/web-sso.ts): /saml/login?idp=NAME redirects to the IdP,
 * /saml/acs receives its Response and sets the session cookie, /saml/session says who is logged in,
 * /saml/logout ends the session. Errors never quote what was posted.
 */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { WebSso } from '../../auth/saml/web-sso.ts';
import { RETRY_AFTER_SECONDS } from '../../services/errors.ts';
import { FormProblem, readForm } from '../form.ts';

export const SESSION_COOKIE = 'scim_bridge_admin';
const MAX_ACS_FORM_BYTES = 192 * 1024;

function problem(ctx: Context, status: number, description: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'application/json; charset=utf-8';
  ctx.body = { error: description };
  ctx.state.errorDetail = description;
}

/** Secure, HttpOnly, SameSite=Lax: never readable by scripts, never sent by cross-site subrequests. */
function sessionCookie(value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; Secure; HttpOnly; SameSite=Lax`;
}

function cookieOf(ctx: Context): string {
  const header = ctx.get('Cookie');
  const match = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]*)`).exec(header);
  return match?.[1] ?? '';
}

/** Where to go after login: a local path only (no open redirect). */
function localPath(relayState: unknown): string {
  return typeof relayState === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(relayState)
    ? relayState
    : '/saml/session';
}

function registerSso(router: Router, sso: WebSso, logger: Logger): void {
  router.get('/saml/login', async (ctx) => {
    ctx.state.routeName = 'GET /saml/login';
    const url = await sso.loginUrl(String(ctx.query.idp ?? ''));
    if (!url) return problem(ctx, 404, 'no trusted IdP of that name (see /ready)');
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(url);
  });
  router.post('/saml/acs', async (ctx) => {
    ctx.state.routeName = 'POST /saml/acs';
    let form: Awaited<ReturnType<typeof readForm>>;
    try {
      form = await readForm(ctx, MAX_ACS_FORM_BYTES);
    } catch (error) {
      if (!(error instanceof FormProblem)) throw error;
      return problem(ctx, error.status, error.message);
    }
    if (typeof form.SAMLResponse !== 'string') return problem(ctx, 400, 'expected one SAMLResponse field');
    const result = await sso.acs(form.SAMLResponse);
    if (!result.ok) return problem(ctx, 400, result.description);
    logger.info(
      { requestId: ctx.state.requestId, subject: result.session.name, issuer: result.session.issuer },
      'admin logged in',
    );
    const maxAge = Math.max(1, Math.floor((result.session.expiresAt - Date.now()) / 1000));
    ctx.set('Set-Cookie', sessionCookie(result.sessionId, maxAge));
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(localPath(form.RelayState));
  });
  router.get('/saml/session', async (ctx) => {
    ctx.state.routeName = 'GET /saml/session';
    const session = await sso.session(cookieOf(ctx));
    if (!session) return problem(ctx, 401, 'not logged in: start at /saml/login?idp=NAME');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      name: session.name,
      issuer: session.issuer,
      scopes: session.scopes,
      expiresAt: new Date(session.expiresAt).toISOString(),
    };
  });
  router.post('/saml/logout', async (ctx) => {
    ctx.state.routeName = 'POST /saml/logout';
    await sso.logout(cookieOf(ctx));
    ctx.set('Set-Cookie', sessionCookie('', 0));
    ctx.status = 204;
  });
}

export function registerSamlRoutes(
  router: Router,
  parts: { metadataXml: string; sso?: WebSso; logger: Logger },
): void {
  router.get('/saml/metadata', (ctx) => {
    ctx.state.routeName = 'GET /saml/metadata';
    // SAML metadata §4.1.1 media type.
    ctx.type = 'application/samlmetadata+xml';
    ctx.body = parts.metadataXml;
  });
  if (!parts.sso) return;
  const sso = parts.sso;
  // Redis down: the session store cannot answer; say so instead of a 500.
  router.use('/saml', async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      logger(parts.logger, error);
      problem(ctx, 503, 'the session store is unavailable; retry later');
      ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    }
  });
  registerSso(router, sso, parts.logger);
}

function logger(log: Logger, error: unknown): void {
  log.warn({ err: (error as Error).message }, 'SAML login unavailable');
}

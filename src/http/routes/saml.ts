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
import type { AuditLog } from '../../admin/audit-log.ts';
import { escapeHtml } from '../../admin/html.ts';
import type { AcsResult, WebSso } from '../../auth/saml/web-sso.ts';
import { sessionCookie, sessionIdOf } from '../../auth/sessions.ts';
import { RETRY_AFTER_SECONDS } from '../../services/errors.ts';
import { FormProblem, readForm } from '../form.ts';

const MAX_ACS_FORM_BYTES = 192 * 1024;

function problem(ctx: Context, status: number, description: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'application/json; charset=utf-8';
  ctx.body = { error: description };
  ctx.state.errorDetail = description;
}

function cookieOf(ctx: Context): string {
  return sessionIdOf(ctx.get('Cookie'));
}

/** Where to go after login: a local path only (no open redirect). */
export function localPath(relayState: unknown): string | undefined {
  return typeof relayState === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(relayState)
    ? relayState
    : undefined;
}

/**
 * Into the console: a page of this origin moves on (a meta refresh, no script), because a
 * SameSite=Strict cookie set by the IdP's cross-site POST is not sent on a redirect of it, but is
 * on a navigation this origin starts.
 */
function enterConsole(ctx: Context, location: string): void {
  const target = escapeHtml(location);
  ctx.set('Content-Security-Policy', "default-src 'none'; base-uri 'none'; frame-ancestors 'none'");
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.type = 'text/html; charset=utf-8';
  ctx.body =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${target}">` +
    `<title>Signed in</title></head><body><p>Signed in. <a href="${target}">Continue to the console</a>.</p></body></html>`;
}

/** A console sign-in through SSO, or its refusal, in the console's audit log. */
function auditSignIn(audit: AuditLog | undefined, ctx: Context, result: AcsResult): Promise<void> {
  if (!audit) return Promise.resolve();
  const common = {
    action: 'POST /saml/acs',
    from: (ctx.state.origin as { address?: string } | undefined)?.address ?? '',
    requestId: String(ctx.state.requestId ?? ''),
  };
  return result.ok
    ? audit.record({
        ...common,
        who: result.session.subject,
        via: 'saml',
        detail: { issuer: result.session.issuer ?? '' },
        outcome: 'ok',
        status: 200,
      })
    : audit.record({
        ...common,
        who: 'anonymous',
        via: '-',
        detail: { reason: result.description },
        outcome: 'refused',
        status: 400,
      });
}

function registerSso(router: Router, sso: WebSso, logger: Logger, audit?: AuditLog): void {
  router.get('/saml/login', async (ctx) => {
    ctx.state.routeName = 'GET /saml/login';
    const relay = localPath(ctx.query.RelayState);
    const url = await sso.loginUrl(String(ctx.query.idp ?? ''), relay);
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
    await auditSignIn(audit, ctx, result);
    if (!result.ok) return problem(ctx, 400, result.description);
    logger.info(
      { requestId: ctx.state.requestId, subject: result.session.subject, issuer: result.session.issuer },
      'admin logged in',
    );
    const maxAge = Math.max(1, Math.floor((result.session.expiresAt - Date.now()) / 1000));
    ctx.set('Set-Cookie', sessionCookie(result.sessionId, maxAge));
    ctx.set('Cache-Control', 'no-store');
    const relay = localPath(form.RelayState) ?? '/saml/session';
    if (relay === '/admin' || relay.startsWith('/admin/') || relay.startsWith('/admin?')) {
      return enterConsole(ctx, relay);
    }
    ctx.status = 303;
    ctx.redirect(relay);
  });
  router.get('/saml/session', async (ctx) => {
    ctx.state.routeName = 'GET /saml/session';
    const session = await sso.session(cookieOf(ctx));
    if (!session) return problem(ctx, 401, 'not logged in: start at /saml/login?idp=NAME');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      name: session.subject,
      ...(session.issuer !== undefined ? { issuer: session.issuer } : {}),
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
  parts: { metadataXml: string; sso?: WebSso; logger: Logger; audit?: AuditLog },
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
  registerSso(router, sso, parts.logger, parts.audit);
}

function logger(log: Logger, error: unknown): void {
  log.warn({ err: (error as Error).message }, 'SAML login unavailable');
}

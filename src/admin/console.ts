/**
 * The admin console's core (docs/architecture.md §Admin console): one Koa middleware for every
 * path under /admin. It sets the security headers of every answer, serves the stylesheet, signs
 * admins in and out (sign-in.ts), sends anyone without a session to the sign-in page, checks the
 * Origin and the session's CSRF token of every POST, runs the page (page.ts contract), writes the
 * audit record of every POST and refusal, wraps pages in the layout and turns an AdminProblem into
 * an error page (anything else: a 500 page without internals, logged).
 */
import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Router } from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.ts';
import { ADMIN_SCOPE } from '../auth/scopes.ts';
import { type Session, type SessionStore, sessionIdOf } from '../auth/sessions.ts';
import type { AuditEntry, AuditLog } from './audit-log.ts';
import { type Html, html, htmlText } from './html.ts';
import { layout, type NavItem, navOf } from './layout.ts';
import { AdminProblem, type AdminRequest, type AdminResponse, type AdminRoute } from './page.ts';
import { crossOriginReason, readAdminForm, sameSecret, setSecurityHeaders } from './security.ts';
import { type SignInParts, showSignIn, signInWithToken, signOut } from './sign-in.ts';
import type { SignInLimit } from './sign-in-limit.ts';

export interface AdminConsoleOptions {
  readonly sessions: SessionStore;
  readonly authenticator: Authenticator;
  /** Trusted IdPs offered for SSO on the sign-in page. */
  readonly idps: () => readonly string[];
  /** Token sign-in attempts per client IP; absent: not limited. */
  readonly signInLimit?: SignInLimit;
  readonly routes: readonly AdminRoute[];
  readonly audit: AuditLog;
  readonly logger: Logger;
}

const STYLESHEET = readFileSync(new URL('./assets/admin.css', import.meta.url), 'utf8');
/** The stylesheet's URL names its content, so it can be cached for a year and never go stale. */
const STYLESHEET_URL = `/admin/assets/admin.css?v=${hash('sha256', STYLESHEET, 'hex').slice(0, 12)}`;

interface Visit {
  readonly sessionId: string;
  readonly session: Session;
}

/** Paths of this console: /admin and below. */
export function isConsolePath(path: string): boolean {
  return path === '/admin' || path.startsWith('/admin/');
}

export function adminConsole(options: AdminConsoleOptions): Middleware {
  const nav = navOf(options.routes);
  const router = new Router({ strict: false });
  const signIn = signInParts(options);
  router.get('/admin/assets/admin.css', serveStylesheet);
  router.get('/admin/sign-in', (ctx) => showSignIn(signIn, ctx));
  router.post('/admin/sign-in', (ctx) => signInWithToken(signIn, ctx));
  router.post('/admin/sign-out', (ctx) =>
    withSession(options, ctx, async (visit) => {
      await checkPost(options, ctx, visit);
      await auditFor(options, ctx, visit, { detail: {}, outcome: 'ok', status: 303 });
      await signOut(signIn, ctx);
    }),
  );
  for (const route of options.routes) {
    const handler = (ctx: Context) =>
      withSession(options, ctx, (visit) => runRoute(options, nav, route, ctx, visit));
    if (route.method === 'GET') router.get(route.path, handler);
    else router.post(route.path, handler);
  }
  const dispatch = router.routes() as unknown as Middleware;
  return async function console(ctx: Context, next: Next): Promise<void> {
    if (!isConsolePath(ctx.path)) return next();
    ctx.state.routeName = 'admin';
    setSecurityHeaders(ctx);
    try {
      await dispatch(ctx, async () => {
        throw new AdminProblem(404, 'There is no console page at this address.');
      });
    } catch (error) {
      showError(options, ctx, error);
    }
  };
}

function serveStylesheet(ctx: Context): void {
  ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
  ctx.type = 'text/css; charset=utf-8';
  ctx.body = STYLESHEET;
}

function signInParts(options: AdminConsoleOptions): SignInParts {
  return {
    sessions: options.sessions,
    authenticator: options.authenticator,
    idps: options.idps,
    ...(options.signInLimit ? { limit: options.signInLimit } : {}),
    show: (ctx, status, title, body) =>
      show(ctx, status, layout({ title, body, stylesheet: STYLESHEET_URL })),
    audit: (ctx, entry) => record(options, ctx, { ...entry, action: `${ctx.method} ${ctx.path}` }),
  };
}

function show(ctx: Context, status: number, page: Html): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = htmlText(page);
}

function record(options: AdminConsoleOptions, ctx: Context, entry: Omit<AuditEntry, 'from' | 'requestId'>) {
  const origin = ctx.state.origin as { address?: string } | undefined;
  return options.audit.record({
    ...entry,
    from: origin?.address ?? '',
    requestId: String(ctx.state.requestId ?? ''),
  });
}

function auditFor(
  options: AdminConsoleOptions,
  ctx: Context,
  visit: Visit,
  entry: Pick<AuditEntry, 'detail' | 'outcome' | 'status'>,
): Promise<void> {
  const { subject, via } = visit.session;
  return record(options, ctx, { ...entry, who: subject, via, action: `${ctx.method} ${ctx.path}` });
}

/** The session behind the cookie, or a redirect to the sign-in page; a session without admin scope is a 403. */
async function withSession(
  options: AdminConsoleOptions,
  ctx: Context,
  work: (visit: Visit) => Promise<void>,
): Promise<void> {
  const sessionId = sessionIdOf(ctx.get('Cookie'));
  const session = sessionId === '' ? undefined : await storeAnswer(options.sessions.get(sessionId));
  if (!session) {
    const next = ctx.method === 'GET' ? ctx.originalUrl : '/admin';
    ctx.status = 303;
    ctx.redirect(`/admin/sign-in?${new URLSearchParams({ next })}`);
    return;
  }
  const visit = { sessionId, session };
  if (!session.scopes.includes(ADMIN_SCOPE)) {
    await auditFor(options, ctx, visit, {
      detail: { reason: 'no admin scope' },
      outcome: 'refused',
      status: 403,
    });
    throw new AdminProblem(
      403,
      `You are signed in as ${session.subject}, but your identity provider does not grant the admin scope the console needs.`,
    );
  }
  await work(visit);
}

/** A POST's form after the Origin and CSRF checks; a refusal is audited and changes nothing. */
async function checkPost(
  options: AdminConsoleOptions,
  ctx: Context,
  visit: Visit,
): Promise<Record<string, string>> {
  const crossOrigin = crossOriginReason(ctx);
  const form = crossOrigin ? {} : await readAdminForm(ctx);
  const why =
    crossOrigin ??
    (sameSecret(form._csrf ?? '', visit.session.csrfToken)
      ? undefined
      : 'the form carries no valid CSRF token for your session (a stale page, or sent from elsewhere)');
  if (why) {
    await auditFor(options, ctx, visit, { detail: { reason: why }, outcome: 'refused', status: 403 });
    throw new AdminProblem(403, `Refused: ${why}. Nothing was changed; reload the page and try again.`);
  }
  const { _csrf, ...fields } = form;
  return fields;
}

function requestOf(ctx: Context, visit: Visit, form: Record<string, string>): AdminRequest {
  const { session } = visit;
  const origin = ctx.state.origin as { address?: string } | undefined;
  return {
    method: ctx.method === 'POST' ? 'POST' : 'GET',
    path: ctx.path,
    params: { ...(ctx.params as Record<string, string>) },
    query: new URLSearchParams(ctx.querystring),
    form,
    principal: {
      subject: session.subject,
      via: session.via,
      ...(session.issuer !== undefined ? { issuer: session.issuer } : {}),
    },
    csrfToken: session.csrfToken,
    requestId: String(ctx.state.requestId ?? ''),
    clientIp: origin?.address ?? '',
  };
}

async function runRoute(
  options: AdminConsoleOptions,
  nav: readonly NavItem[],
  route: AdminRoute,
  ctx: Context,
  visit: Visit,
): Promise<void> {
  const form = route.method === 'POST' ? await checkPost(options, ctx, visit) : {};
  const request = requestOf(ctx, visit, form);
  let response: AdminResponse;
  try {
    response = await route.handle(request);
  } catch (error) {
    if (route.method === 'POST') {
      const status = error instanceof AdminProblem ? error.status : 500;
      const outcome = status < 500 ? 'refused' : 'failed';
      await auditFor(options, ctx, visit, { detail: detailOf(route, request), outcome, status });
    }
    throw error;
  }
  if (route.method === 'POST') {
    const status = response.kind === 'redirect' ? 303 : (response.status ?? 200);
    await auditFor(options, ctx, visit, { detail: detailOf(route, request), outcome: 'ok', status });
  }
  respond(ctx, response, visit, nav);
}

function detailOf(route: AdminRoute, request: AdminRequest): Readonly<Record<string, string>> {
  try {
    return route.audit?.(request) ?? {};
  } catch {
    return { detail: 'the route could not describe the action' };
  }
}

function respond(ctx: Context, response: AdminResponse, visit: Visit, nav: readonly NavItem[]): void {
  if (response.kind === 'redirect') {
    if (!isConsolePath(response.location.split('?')[0] ?? '')) {
      throw new Error(`a console route redirected outside /admin: ${response.location}`);
    }
    ctx.status = 303;
    ctx.redirect(response.location);
    return;
  }
  const { session } = visit;
  const page = layout({
    title: response.title,
    body: response.body,
    stylesheet: STYLESHEET_URL,
    signedIn: {
      principal: {
        subject: session.subject,
        via: session.via,
        ...(session.issuer !== undefined ? { issuer: session.issuer } : {}),
      },
      csrfToken: session.csrfToken,
      nav,
      currentPath: ctx.path,
    },
  });
  show(ctx, response.status ?? 200, page);
}

/** The session store's answer; Redis down is a 503 page, not a 500. */
export async function storeAnswer<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch {
    throw new AdminProblem(
      503,
      'The session store (Redis) does not answer, so no one can sign in right now; retry in a moment.',
    );
  }
}

function showError(options: AdminConsoleOptions, ctx: Context, error: unknown): void {
  setSecurityHeaders(ctx);
  ctx.remove('Location');
  if (error instanceof AdminProblem) {
    ctx.state.errorDetail = error.message;
    const body = html`<p class="notice error" role="alert">${error.message}</p><p><a href="/admin">Back to the overview</a></p>`;
    show(ctx, error.status, layout({ title: titleOf(error.status), body, stylesheet: STYLESHEET_URL }));
    return;
  }
  options.logger.error(
    {
      err: error instanceof Error ? error.message : String(error),
      requestId: ctx.state.requestId,
      path: ctx.path,
    },
    'admin console page failed',
  );
  const body = html`<p class="notice error" role="alert">The page could not be shown. The error is in the bridge's log under request id <code>${String(ctx.state.requestId ?? '')}</code>.</p>`;
  show(ctx, 500, layout({ title: 'Something went wrong', body, stylesheet: STYLESHEET_URL }));
}

function titleOf(status: number): string {
  if (status === 404) return 'Not found';
  if (status === 403) return 'Refused';
  if (status === 401) return 'Not signed in';
  if (status >= 500) return 'Unavailable';
  return 'Cannot do that';
}

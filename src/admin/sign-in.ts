/**
 * Signing in and out of the console (docs/architecture.md §Admin console). Two ways in, one kind
 * of session (auth/sessions.ts): SAML Web SSO against a trusted IdP (/saml/login, which comes back
 * through /saml/acs), or an operator's bearer token with the `admin` scope, checked by the same
 * Authenticator as SCIM requests (constant time). The sign-in form has no session yet, so its CSRF
 * token is a double-submit cookie of its own, besides the Origin check every POST gets.
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { Authenticator } from '../auth/authenticator.ts';
import { ADMIN_SCOPE } from '../auth/scopes.ts';
import { cookieValue, type SessionStore, sessionCookie, sessionIdOf } from '../auth/sessions.ts';
import type { AuditEntry } from './audit-log.ts';
import { type Html, html } from './html.ts';
import { AdminProblem } from './page.ts';
import { consolePath, crossOriginReason, readAdminForm, sameSecret } from './security.ts';
import type { SignInLimit } from './sign-in-limit.ts';

/** The sign-in form's CSRF cookie: `__Host-`, scoped like the session cookie, gone with the browser. */
export const SIGN_IN_COOKIE = '__Host-scim_bridge_sign_in';

export interface SignInParts {
  readonly sessions: SessionStore;
  readonly authenticator: Authenticator;
  /** Trusted IdPs offered for SSO. */
  readonly idps: () => readonly string[];
  /** Token sign-in attempts per client IP; absent: not limited. */
  readonly limit?: Pick<SignInLimit, 'take'>;
  /** Renders a page without the signed-in frame. */
  show(ctx: Context, status: number, title: string, body: Html): void;
  audit(
    ctx: Context,
    entry: Pick<AuditEntry, 'who' | 'via' | 'detail' | 'outcome' | 'status'>,
  ): Promise<void>;
}

function signInToken(ctx: Context): string {
  const existing = cookieValue(ctx.get('Cookie'), SIGN_IN_COOKIE);
  if (/^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  ctx.append('Set-Cookie', `${SIGN_IN_COOKIE}=${token}; Path=/; Secure; HttpOnly; SameSite=Strict`);
  return token;
}

function idpLinks(idps: readonly string[], next: string): Html {
  if (idps.length === 0) return html``;
  const links = idps.map((name) => {
    const href = `/saml/login?${new URLSearchParams({ idp: name, RelayState: next })}`;
    return html`<li><a class="button" href="${href}">Sign in with ${name}</a></li>`;
  });
  return html`<h2>With your identity provider</h2><ul class="idps">${links}</ul>`;
}

function signInBody(parts: SignInParts, ctx: Context, next: string, notice?: string): Html {
  const csrf = signInToken(ctx);
  return html`${notice ? html`<p class="notice error" role="alert">${notice}</p>` : ''}
${idpLinks(parts.idps(), next)}
<h2>With an admin token</h2>
<p class="muted">Paste a bearer token that has the <code>admin</code> scope. It is checked once and never stored; the session lasts until you sign out or it expires.</p>
<form method="post" action="/admin/sign-in" class="stack">
<input type="hidden" name="_csrf" value="${csrf}">
<input type="hidden" name="next" value="${next}">
<div><label for="token">Admin token</label>
<input type="password" id="token" name="token" autocomplete="off" required spellcheck="false"></div>
<div><button type="submit">Sign in</button></div>
</form>`;
}

export function showSignIn(parts: SignInParts, ctx: Context): void {
  const next = consolePath(ctx.query.next);
  parts.show(ctx, 200, 'Sign in', signInBody(parts, ctx, next));
}

async function refuse(parts: SignInParts, ctx: Context, status: number, why: string, who = 'anonymous') {
  await parts.audit(ctx, { who, via: '-', detail: { reason: why }, outcome: 'refused', status });
  parts.show(ctx, status, 'Sign in', signInBody(parts, ctx, consolePath(ctx.query.next), why));
}

/** POST /admin/sign-in: the token form. */
export async function signInWithToken(parts: SignInParts, ctx: Context): Promise<void> {
  const crossOrigin = crossOriginReason(ctx);
  if (crossOrigin) return refuse(parts, ctx, 403, `Refused: ${crossOrigin}.`);
  const form = await readAdminForm(ctx);
  const expected = cookieValue(ctx.get('Cookie'), SIGN_IN_COOKIE);
  if (!sameSecret(form._csrf ?? '', expected)) {
    return refuse(parts, ctx, 403, 'Refused: the form is stale or was not sent from this page; try again.');
  }
  const token = (form.token ?? '').trim();
  if (token === '') return refuse(parts, ctx, 400, 'Enter a token.');
  // Counted once the form is genuine: each count is a token that would be checked.
  const address = (ctx.state.origin as { address?: string } | undefined)?.address ?? '';
  const wait = await parts.limit?.take(address);
  if (wait !== undefined) {
    // RFC 6585 §4: 429 with Retry-After; the token is not checked.
    ctx.set('Retry-After', String(wait));
    return refuse(parts, ctx, 429, `Too many sign-in attempts from your address; try again in ${wait} s.`);
  }
  const result = await parts.authenticator.authenticate(`Bearer ${token}`).catch(() => {
    throw new AdminProblem(503, 'Issued tokens cannot be checked: Redis does not answer; retry in a moment.');
  });
  if (!result.ok) return refuse(parts, ctx, 401, 'That token is not valid.');
  const { principal } = result;
  if (!principal.scopes.includes(ADMIN_SCOPE)) {
    const why = `The token "${principal.name}" does not have the admin scope, which the console needs.`;
    return refuse(parts, ctx, 403, why, principal.name);
  }
  const { id, session } = await parts.sessions
    .open({
      subject: principal.name,
      via: 'token',
      ...(principal.issuer !== undefined ? { issuer: principal.issuer } : {}),
      scopes: principal.scopes,
    })
    .catch(() => {
      throw new AdminProblem(503, 'The session store (Redis) does not answer; retry in a moment.');
    });
  ctx.append('Set-Cookie', sessionCookie(id, parts.sessions.cookieMaxAge(session)));
  ctx.append('Set-Cookie', `${SIGN_IN_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict`);
  await parts.audit(ctx, { who: principal.name, via: 'token', detail: {}, outcome: 'ok', status: 303 });
  ctx.status = 303;
  ctx.redirect(consolePath(form.next));
}

/** POST /admin/sign-out, after the console checked the session's CSRF token: the session ends. */
export async function signOut(parts: SignInParts, ctx: Context): Promise<void> {
  await parts.sessions.end(sessionIdOf(ctx.get('Cookie')));
  ctx.append('Set-Cookie', sessionCookie('', 0));
  ctx.status = 303;
  ctx.redirect('/admin/sign-in');
}

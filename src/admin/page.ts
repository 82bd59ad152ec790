/**
 * The contract between the console's core (src/admin/console.ts: sessions, sign-in, CSRF, CSP,
 * audit, layout) and its pages. A page module exports a factory returning `AdminRoute`s; the core
 * authenticates the request, checks the CSRF token of every POST, writes the audit record of every
 * POST, wraps a `page` answer in the layout and renders `AdminProblem`s as error pages.
 */
import { type Html, html } from './html.ts';

/** Who is signed in to the console. */
export interface AdminPrincipal {
  /** The token's client name, or the SAML NameID. */
  readonly subject: string;
  readonly via: 'token' | 'saml';
  /** The IdP's entity id when `via` is saml. */
  readonly issuer?: string;
}

export interface AdminRequest {
  readonly method: 'GET' | 'POST';
  /** The path, without the query string. */
  readonly path: string;
  /** Values of the route pattern's `:name` parts, decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** A POST's form fields (application/x-www-form-urlencoded), the CSRF token already checked; {} for GET. */
  readonly form: Readonly<Record<string, string>>;
  readonly principal: AdminPrincipal;
  /** The session's CSRF token: every form carries it (`csrfField`). */
  readonly csrfToken: string;
  readonly requestId: string;
  /** The client's address (X-Forwarded-For only from trusted proxies). */
  readonly clientIp: string;
}

export type AdminResponse =
  | { readonly kind: 'page'; readonly title: string; readonly body: Html; readonly status?: number }
  /** A local path (starting with /admin); POST handlers answer with one (post/redirect/get). */
  | { readonly kind: 'redirect'; readonly location: string };

export interface AdminRoute {
  readonly method: 'GET' | 'POST';
  /** A @koa/router pattern under /admin, e.g. `/admin/resources/:type/:id`. */
  readonly path: string;
  /** Present on the pages the navigation lists. */
  readonly nav?: { readonly label: string; readonly order: number };
  /** POST routes: what the audit record says was done, besides who, when and from where. */
  readonly audit?: (request: AdminRequest) => Readonly<Record<string, string>>;
  handle(request: AdminRequest): Promise<AdminResponse>;
}

/** A refusal the core shows as an error page with this status (400 bad input, 404 not found, ...). */
export class AdminProblem extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
    this.name = 'AdminProblem';
  }
}

/** The hidden field every form of the console carries. */
export function csrfField(request: Pick<AdminRequest, 'csrfToken'>): Html {
  return html`<input type="hidden" name="_csrf" value="${request.csrfToken}">`;
}

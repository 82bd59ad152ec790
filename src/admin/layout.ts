/**
 * The console's page frame: a skip link, the navigation built from the routes' `nav`, who is
 * signed in and a sign-out form (POST, with the CSRF token). One stylesheet from /admin/assets,
 * no inline style or script (the CSP forbids both).
 */
import { type Html, html } from './html.ts';
import type { AdminPrincipal, AdminRoute } from './page.ts';

export interface NavItem {
  readonly label: string;
  readonly path: string;
}

export interface Frame {
  readonly title: string;
  readonly body: Html;
  /** The stylesheet's URL (versioned by its content). */
  readonly stylesheet: string;
  /** Absent on the sign-in and error pages shown without a session. */
  readonly signedIn?: {
    readonly principal: AdminPrincipal;
    readonly csrfToken: string;
    readonly nav: readonly NavItem[];
    readonly currentPath: string;
  };
}

/** The navigation: routes with `nav`, by order then label. */
export function navOf(routes: readonly AdminRoute[]): NavItem[] {
  return routes
    .filter((route) => route.method === 'GET' && route.nav)
    .sort((a, b) => (a.nav?.order ?? 0) - (b.nav?.order ?? 0) || a.path.localeCompare(b.path))
    .map((route) => ({ label: route.nav?.label ?? route.path, path: route.path }));
}

function isCurrent(item: NavItem, currentPath: string): boolean {
  if (item.path === '/admin') return currentPath === '/admin' || currentPath === '/admin/';
  return currentPath === item.path || currentPath.startsWith(`${item.path}/`);
}

function header(signedIn: Frame['signedIn']): Html {
  if (!signedIn) return html`<header class="bar"><span class="brand">scim-ldap-bridge</span></header>`;
  const { principal, csrfToken, nav, currentPath } = signedIn;
  const links = nav.map(
    (item) =>
      html`<li><a href="${item.path}"${isCurrent(item, currentPath) ? html` aria-current="page"` : ''}>${item.label}</a></li>`,
  );
  const how = principal.via === 'saml' ? `SAML, ${principal.issuer ?? 'IdP'}` : 'token';
  return html`<header class="bar">
<a class="brand" href="/admin">scim-ldap-bridge</a>
<nav aria-label="Console"><ul class="nav">${links}</ul></nav>
<div class="who"><span>Signed in as <strong>${principal.subject}</strong> <span class="muted">(${how})</span></span>
<form method="post" action="/admin/sign-out" class="inline">
<input type="hidden" name="_csrf" value="${csrfToken}">
<button type="submit" class="secondary">Sign out</button>
</form></div>
</header>`;
}

export function layout(frame: Frame): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · scim-ldap-bridge admin</title>
<link rel="stylesheet" href="${frame.stylesheet}">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${header(frame.signedIn)}
<main id="main" tabindex="-1">
<h1>${frame.title}</h1>
${frame.body}
</main>
</body>
</html>
`;
}

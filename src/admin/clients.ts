/**
 * Clients and trust (/admin/clients): the configured bearer tokens and the tokens issued at
 * /oauth/token with their scopes (names, scopes and expiry only: never a token or its hash), and
 * the trusted IdPs with the state of their metadata (TrustStore.status).
 */
import type { IdpStatus } from '../auth/saml/trust-store.ts';
import { type Html, html } from './html.ts';
import type { AdminResponse, AdminRoute } from './page.ts';

export interface ConfiguredToken {
  readonly name: string;
  readonly scopes: readonly string[];
  readonly expiresAt?: Date;
}

export interface IssuedGrant {
  readonly principal: { readonly name: string; readonly issuer: string };
  readonly scopes: readonly string[];
  readonly expiresAt: Date;
}

export interface ClientsParts {
  readonly configuredTokens: () => readonly ConfiguredToken[];
  /** Tokens issued at the token endpoint and still valid, at most `limit`. */
  readonly issuedTokens: (limit: number) => Promise<readonly IssuedGrant[]>;
  readonly idps: () => readonly IdpStatus[];
}

const ISSUED_SHOWN = 200;

const when = (date: Date | undefined) => (date ? date.toISOString().replace('T', ' ').slice(0, 19) : '–');
const scopeList = (scopes: readonly string[]) => html`${scopes.map((s) => html`<code>${s}</code> `)}`;

function configuredSection(tokens: readonly ConfiguredToken[]): Html {
  const rows = tokens.map(
    (t) =>
      html`<tr><th scope="row">${t.name}</th><td>${scopeList(t.scopes)}</td><td>${when(t.expiresAt)}</td></tr>`,
  );
  return html`<section aria-labelledby="configured"><h2 id="configured">Configured tokens</h2>
<p class="muted">From auth.tokens (re-read on SIGHUP). The configuration holds only their SHA-256.</p>
<div class="table-wrap"><table><thead><tr><th scope="col">Client</th><th scope="col">Scopes</th><th scope="col">Expires (UTC)</th></tr></thead>
<tbody>${rows}</tbody></table></div></section>`;
}

function issuedSection(grants: readonly IssuedGrant[] | undefined): Html {
  if (grants === undefined)
    return html`<h2>Issued tokens</h2><p class="notice error">Redis did not answer: issued tokens cannot be listed.</p>`;
  const rows = grants.map(
    (g) =>
      html`<tr><td>${g.principal.name}</td><td>${g.principal.issuer}</td><td>${scopeList(g.scopes)}</td><td>${when(g.expiresAt)}</td></tr>`,
  );
  return html`<section aria-labelledby="issued"><h2 id="issued">Issued tokens</h2>
<p class="muted">Access tokens issued at /oauth/token for SAML assertions (RFC 7522), still valid${grants.length >= ISSUED_SHOWN ? `; the first ${ISSUED_SHOWN}` : ''}.</p>
${
  rows.length === 0
    ? html`<p>None.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Subject</th><th scope="col">IdP</th><th scope="col">Scopes</th><th scope="col">Expires (UTC)</th></tr></thead><tbody>${rows}</tbody></table></div>`
}</section>`;
}

function idpSection(idps: readonly IdpStatus[]): Html {
  const rows = idps.map(
    (idp) => html`<tr><th scope="row">${idp.name}</th><td>${idp.entityId ?? '–'}</td>
<td>${idp.trusted ? html`<span class="ok">trusted</span>` : html`<span class="bad">not usable</span>`}</td>
<td>${when(idp.loadedAt)}</td><td>${when(idp.validUntil)}</td>
<td>${idp.lastError ? html`<span class="warn">${idp.lastError}</span> (${when(idp.lastErrorAt)})` : ''}</td></tr>`,
  );
  return html`<section aria-labelledby="idps"><h2 id="idps">Trusted identity providers</h2>
${
  rows.length === 0
    ? html`<p>None configured (auth.saml.trustedIdps).</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Name</th><th scope="col">Entity ID</th><th scope="col">Metadata</th><th scope="col">Loaded (UTC)</th><th scope="col">Valid until</th><th scope="col">Last refresh problem</th></tr></thead><tbody>${rows}</tbody></table></div>`
}</section>`;
}

async function clients(parts: ClientsParts): Promise<AdminResponse> {
  const issued = await parts.issuedTokens(ISSUED_SHOWN).catch(() => undefined);
  return {
    kind: 'page',
    title: 'Clients and trust',
    body: html`${configuredSection(parts.configuredTokens())}${issuedSection(issued)}${idpSection(parts.idps())}`,
  };
}

export function clientsRoutes(parts: ClientsParts): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/clients',
      nav: { label: 'Clients and trust', order: 80 },
      handle: () => clients(parts),
    },
  ];
}

/**
 * The token endpoint's one grant: `POST /oauth/token` with grant_type
 * urn:ietf:params:oauth:grant-type:saml2-bearer (RFC 7522 §2.1). Takes the parsed form fields and
 * answers the RFC 6749 §5.1/§5.2 JSON body with its status; the HTTP layer only transports it.
 * Clients do not authenticate separately: the assertion's subject is the client (RFC 7522 §2.1).
 */
import type { IssuedPrincipal, IssuedToken } from '../issued-tokens.ts';
import { type OAuthRefusal, refuse } from '../oauth-error.ts';
import { covers, parseScopes, type ScopeRule, scopesFor } from '../scopes.ts';
import {
  type AssertionPolicy,
  SAML2_BEARER_GRANT_TYPE,
  type TrustedIssuers,
  verifyBearerAssertion,
} from './assertion.ts';
import type { ReplayCache } from './replay-cache.ts';

export interface GrantTrust extends TrustedIssuers {
  /** The configured name of the IdP with this entityID (TrustStore.metadata). */
  metadata(entityId: string): { name: string } | undefined;
}

export interface GrantOptions {
  readonly policy: AssertionPolicy;
  readonly trust: GrantTrust;
  readonly replay: ReplayCache;
  readonly tokens: {
    issue(principal: IssuedPrincipal, scopes: readonly string[], ttl: number): Promise<IssuedToken>;
  };
  /** The scope rules configured for an IdP, by its configured name. */
  readonly scopeRules: (idpName: string) => readonly ScopeRule[];
  /** Resource type endpoints ('/Users', '/Groups'): the scopes that exist. */
  readonly resourceEndpoints: readonly string[];
  readonly tokenTtlSeconds: number;
  readonly now?: () => number;
}

export type FormFields = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface TokenResponse {
  readonly status: 200 | 400 | 401;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Readonly<Record<string, string | number>>;
  /** What may be logged about a granted token: never the token or the assertion. */
  readonly audit?: { readonly issuer: string; readonly subject: string; readonly tokenId: string };
}

/** RFC 6749 §5.1: token answers, errors included, must not be cached. */
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const KNOWN_FIELDS = ['grant_type', 'assertion', 'scope', 'client_id', 'client_secret', 'client_assertion'];
const CLIENT_CREDENTIALS = ['client_secret', 'client_assertion', 'client_assertion_type'];

function refusal(r: OAuthRefusal, basicAttempted = false): TokenResponse {
  const status = r.error === 'invalid_client' ? 401 : 400;
  // RFC 6749 §5.2: a failed Authorization header answers 401 with a challenge of its scheme.
  const headers: Record<string, string> = { ...NO_STORE };
  if (basicAttempted) headers['WWW-Authenticate'] = 'Basic realm="token"';
  return { status, headers, body: { error: r.error, error_description: r.description } };
}

/** RFC 6749 §3.2 (no repeated parameters) and §2.3 (no client authentication method is offered). */
function checkForm(form: FormFields, authorization: string | undefined): OAuthRefusal | undefined {
  const repeated = KNOWN_FIELDS.find((name) => Array.isArray(form[name]));
  if (repeated) return refuse('invalid_request', `the parameter ${repeated} is repeated`);
  if (authorization !== undefined || CLIENT_CREDENTIALS.some((name) => form[name] !== undefined)) {
    return refuse('invalid_client', 'client authentication is not supported here; send only the assertion');
  }
  const grantType = form.grant_type;
  if (grantType === undefined || grantType === '') return refuse('invalid_request', 'grant_type is missing');
  if (grantType !== SAML2_BEARER_GRANT_TYPE) {
    return refuse('unsupported_grant_type', `the only grant type is ${SAML2_BEARER_GRANT_TYPE}`);
  }
  if (form.assertion === undefined || form.assertion === '') {
    return refuse('invalid_request', 'the assertion parameter is missing');
  }
  return undefined;
}

/** RFC 6749 §3.3: the requested scopes the grant covers (all granted ones when none is requested). */
function effectiveScopes(requested: string | undefined, granted: string[], options: GrantOptions) {
  if (granted.length === 0) return refuse('invalid_grant', 'no scope is granted to this subject');
  if (requested === undefined) return granted;
  const parsed = parseScopes(requested, options.resourceEndpoints);
  if (!parsed.ok) return refuse('invalid_scope', 'the scope parameter names an unknown scope');
  const allowed = parsed.scopes.filter((scope) => covers(granted, scope));
  if (allowed.length === 0) return refuse('invalid_scope', 'none of the requested scopes is granted');
  return allowed;
}

/** Answers one token request. Throws only when a store (Redis) fails: the HTTP layer answers 5xx. */
export async function tokenRequest(
  form: FormFields,
  authorization: string | undefined,
  options: GrantOptions,
): Promise<TokenResponse> {
  const invalid = checkForm(form, authorization);
  if (invalid) return refusal(invalid, /^Basic /i.test(authorization ?? ''));
  const verified = await verifyBearerAssertion(form.assertion as string, {
    policy: options.policy,
    trust: options.trust,
    replay: options.replay,
    ...(options.now ? { now: options.now } : {}),
  });
  if (!verified.ok) return refusal(verified);
  const { assertion } = verified;
  const idpName = options.trust.metadata(assertion.issuer)?.name;
  const granted = idpName === undefined ? [] : scopesFor(assertion, options.scopeRules(idpName));
  const scopes = effectiveScopes(form.scope as string | undefined, granted, options);
  if (!Array.isArray(scopes)) return refusal(scopes as OAuthRefusal);
  const principal = { name: assertion.subject, issuer: assertion.issuer };
  const issued = await options.tokens.issue(principal, scopes, options.tokenTtlSeconds);
  return {
    status: 200,
    headers: NO_STORE,
    body: {
      access_token: issued.token,
      token_type: 'Bearer',
      expires_in: issued.expiresIn,
      scope: scopes.join(' '),
    },
    audit: { issuer: assertion.issuer, subject: assertion.subject, tokenId: issued.id },
  };
}

/**
 * SP-initiated Web SSO (SAML profiles §4.1): an AuthnRequest sent by HTTP-Redirect (samlify writes
 * it), the IdP's Response posted back to the ACS (HTTP-POST binding), and an admin session kept in
 * Redis so it works on every instance. The Response must answer a request this bridge made
 * (InResponseTo, used once); its one Assertion goes through the same checks as the RFC 7522 grant
 * (assertion.ts: signature by the IdP's key, audience, recipient = the ACS, times, replay). The
 * session it opens is the console's one kind of session (auth/sessions.ts).
 */
import { XMLSerializer } from '@xmldom/xmldom';
import type { Redis } from 'ioredis';
import samlify from 'samlify';
import { type ScopeRule, scopesFor } from '../scopes.ts';
import type { Session, SessionStore } from '../sessions.ts';
import { type AssertionPolicy, verifyBearerAssertion } from './assertion.ts';
import type { ReplayCache } from './replay-cache.ts';
import type { TrustStore } from './trust-store.ts';
import {
  attribute,
  childElements,
  descendants,
  hasCommentOrInstruction,
  parseStrictXml,
  XmlRefusal,
} from './xml.ts';

const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const POST_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
/** Bound on the SAMLResponse field, checked before decoding. */
export const MAX_SAML_RESPONSE = 128 * 1024;
/** How long an AuthnRequest may wait for its Response. */
const REQUEST_TTL_SECONDS = 600;

export interface WebSsoOptions {
  readonly entityId: string;
  readonly acsUrl: string;
  readonly clockSkewMs: number;
  readonly maxLifetimeMs: number;
  /** SSO sessions end this long after sign-in at the latest (auth.saml.sessionTtlSeconds). */
  readonly sessionTtlSeconds: number;
  readonly sessions: SessionStore;
  readonly trust: TrustStore;
  readonly replay: ReplayCache;
  readonly redis: Redis;
  /** Redis key prefix (pending requests live under it). */
  readonly prefix: string;
  readonly scopeRules: (idpName: string) => readonly ScopeRule[];
}

export type AcsResult =
  | { ok: true; sessionId: string; session: Session }
  | { ok: false; description: string };

const refused = (description: string): AcsResult => ({ ok: false, description });

/** Standard base64 (the HTTP-POST binding, bindings §3.5.4), line breaks tolerated. */
function decodeResponse(field: string): string | undefined {
  const compact = field.replace(/[\r\n]/g, '');
  if (compact.length > MAX_SAML_RESPONSE || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(compact, 'base64'));
  } catch {
    return undefined;
  }
}

export class WebSso {
  readonly #o: WebSsoOptions;
  readonly #sp: ReturnType<typeof samlify.ServiceProvider>;

  constructor(options: WebSsoOptions) {
    this.#o = options;
    this.#sp = samlify.ServiceProvider({
      entityID: options.entityId,
      assertionConsumerService: [{ Binding: POST_BINDING, Location: options.acsUrl }],
    });
  }

  /**
   * The IdP's SSO URL carrying a new AuthnRequest and, when given, the RelayState the IdP posts
   * back with its Response (bindings §3.4.3); undefined when the IdP is unknown or untrusted.
   */
  async loginUrl(idpName: string, relayState?: string): Promise<string | undefined> {
    const metadata = this.#o.trust.byName(idpName);
    if (!metadata) return undefined;
    const request = this.#sp.createLoginRequest(metadata.samlify, 'redirect');
    await this.#o.redis.set(`${this.#o.prefix}sso-request:${request.id}`, idpName, 'EX', REQUEST_TTL_SECONDS);
    if (relayState === undefined) return request.context;
    const url = new URL(request.context);
    url.searchParams.set('RelayState', relayState);
    return url.href;
  }

  /** Checks a posted SAMLResponse; on success opens a session. Rejects only when Redis fails. */
  async acs(field: string): Promise<AcsResult> {
    const xml = decodeResponse(field);
    if (xml === undefined) return refused('the SAMLResponse is not base64 or is too large');
    let assertionXml: string;
    let inResponseTo: string;
    try {
      const root = parseStrictXml(xml).documentElement;
      if (root.namespaceURI !== PROTOCOL || root.localName !== 'Response')
        return refused('the document is not a SAML Response');
      if (hasCommentOrInstruction(root))
        return refused('the Response contains comments or processing instructions');
      const destination = attribute(root, 'Destination');
      if (destination !== undefined && destination !== this.#o.acsUrl)
        return refused('the Response is for another destination');
      const status = childElements(root, PROTOCOL, 'Status')[0];
      const code = status ? childElements(status, PROTOCOL, 'StatusCode')[0] : undefined;
      if (!code || attribute(code, 'Value') !== SUCCESS) return refused('the IdP did not log the user in');
      const assertions = descendants(root).filter((e) => /^(Encrypted)?Assertion$/.test(e.localName));
      const [assertion] = assertions;
      if (
        assertions.length !== 1 ||
        !assertion ||
        assertion.parentNode !== root ||
        assertion.localName !== 'Assertion'
      ) {
        return refused('expected exactly one (unencrypted) Assertion in the Response');
      }
      inResponseTo = attribute(root, 'InResponseTo') ?? '';
      assertionXml = new XMLSerializer().serializeToString(assertion);
    } catch (error) {
      if (error instanceof XmlRefusal) return refused(`the Response is refused: ${error.message}`);
      throw error;
    }
    // Profiles §4.1.4.3: the answer to a request we made, each request answered once.
    const idpName = inResponseTo
      ? await this.#o.redis.getdel(`${this.#o.prefix}sso-request:${inResponseTo}`)
      : null;
    if (idpName === null) return refused('the Response does not answer a pending login request');
    return this.#open(assertionXml, idpName);
  }

  async #open(assertionXml: string, idpName: string): Promise<AcsResult> {
    const policy: AssertionPolicy = {
      entityId: this.#o.entityId,
      tokenEndpointUrl: this.#o.acsUrl,
      clockSkewMs: this.#o.clockSkewMs,
      maxLifetimeMs: this.#o.maxLifetimeMs,
    };
    const field = Buffer.from(assertionXml, 'utf8').toString('base64url');
    const verified = await verifyBearerAssertion(field, {
      policy,
      trust: this.#o.trust,
      replay: this.#o.replay,
    });
    if (!verified.ok) return refused(verified.description);
    const { assertion } = verified;
    if (this.#o.trust.metadata(assertion.issuer)?.name !== idpName)
      return refused('the Response comes from another IdP');
    const scopes = scopesFor(assertion, this.#o.scopeRules(idpName));
    if (scopes.length === 0) return refused('no scope is granted to this user');
    const { id, session } = await this.#o.sessions.open(
      { subject: assertion.subject, via: 'saml', issuer: assertion.issuer, scopes },
      this.#o.sessionTtlSeconds,
    );
    return { ok: true, sessionId: id, session };
  }

  /** The session behind a cookie value, on any instance. */
  session(sessionId: string): Promise<Session | undefined> {
    return this.#o.sessions.get(sessionId);
  }

  logout(sessionId: string): Promise<void> {
    return this.#o.sessions.end(sessionId);
  }
}

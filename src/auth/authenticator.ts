/**
 * Who sent a SCIM request: a static bearer token from the configuration (checked first, in
 * memory, constant time), else a token issued at the token endpoint (looked up by its hash in
 * Redis, auth/issued-tokens.ts). Both give a Principal with scopes; a SAML-derived token costs no
 * signature check here: verification happened once, at the grant (RFC 7522).
 */
import type { TokenGrant } from './issued-tokens.ts';
import { type AuthResult, bearerTokenOf, type TokenVerifier } from './tokens.ts';

export interface IssuedTokenLookup {
  /** The grant behind a token; rejects when the store cannot answer. */
  lookup(token: string): Promise<TokenGrant | undefined>;
}

export class Authenticator {
  readonly #statics: TokenVerifier;
  readonly #issued: IssuedTokenLookup | undefined;

  constructor(statics: TokenVerifier, issued?: IssuedTokenLookup) {
    this.#statics = statics;
    this.#issued = issued;
  }

  /** The whole answer: memory first, then the issued-token store. Rejects only when the store fails. */
  authenticate(authorization: string | undefined): Promise<AuthResult> {
    const known = this.answerInMemory(authorization);
    return known ? Promise.resolve(known) : this.askIssuedTokens(authorization);
  }

  /**
   * The issued-token store's answer, for a token `answerInMemory` could not decide. Rejects only
   * when the store fails.
   */
  async askIssuedTokens(authorization: string | undefined): Promise<AuthResult> {
    const token = bearerTokenOf(authorization);
    if (token === 'missing' || token === 'malformed') return { ok: false, reason: token };
    const grant = await this.#issued?.lookup(token);
    if (!grant) return { ok: false, reason: 'invalid' };
    return {
      ok: true,
      principal: { name: grant.principal.name, issuer: grant.principal.issuer, scopes: grant.scopes },
    };
  }

  /**
   * The answer when memory alone gives it (no header, a malformed one, a static token, or no
   * issued-token store); undefined when the store must be asked. Lets the HTTP layer skip an async
   * frame on the common path (issue 17: CPU per request).
   */
  answerInMemory(authorization: string | undefined): AuthResult | undefined {
    const token = bearerTokenOf(authorization);
    if (token === 'missing' || token === 'malformed') return { ok: false, reason: token };
    const result = this.#statics.verifyToken(token);
    return result.ok || !this.#issued ? result : undefined;
  }
}

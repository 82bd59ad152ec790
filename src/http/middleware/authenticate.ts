import type { Context, Next } from 'koa';
import type { Authenticator } from '../../auth/authenticator.ts';
import type { AuthResult } from '../../auth/tokens.ts';
import { ScimError } from '../../scim/errors.ts';
import { RETRY_AFTER_SECONDS } from '../../services/errors.ts';

/**
 * Every SCIM route needs a valid bearer token (RFC 6750 §3 for the challenge): a static one, or
 * one issued at POST /oauth/token. When the issued-token store (Redis) cannot answer, the request
 * gets 503, never a pass and never a 401 that would make a client drop a valid token.
 */
export function authenticate(authenticator: Authenticator) {
  return function requireToken(ctx: Context, next: Next): Promise<void> {
    const header = ctx.get('Authorization') || undefined;
    // Static tokens and refusals are decided in memory: no async frame on the common path.
    const known = authenticator.answerInMemory(header);
    if (known) return admit(ctx, next, known);
    return authenticator.askIssuedTokens(header).then(
      (result) => admit(ctx, next, result),
      () => {
        throw ScimError.unavailable('the token store is unavailable; retry later', RETRY_AFTER_SECONDS);
      },
    );
  };
}

function admit(ctx: Context, next: Next, result: AuthResult): Promise<void> {
  if (!result.ok) {
    const challenge =
      result.reason === 'missing' ? 'Bearer realm="scim"' : 'Bearer realm="scim", error="invalid_token"';
    throw ScimError.unauthorized(
      result.reason === 'missing'
        ? 'authentication required: send Authorization: Bearer <token>'
        : 'the bearer token is not valid',
      challenge,
    );
  }
  ctx.state.principal = result.principal;
  return next();
}

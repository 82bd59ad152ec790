import type { Context, Next } from 'koa';
import type { TokenVerifier } from '../../auth/tokens.ts';
import { ScimError } from '../../scim/errors.ts';

/** Every SCIM route needs a valid bearer token (RFC 6750 §3 for the challenge). */
export function authenticate(verifier: TokenVerifier) {
  // Nothing to do after the route: no async frame of its own (koa-compose turns a throw into a rejection).
  return function requireToken(ctx: Context, next: Next): Promise<void> {
    const result = verifier.verify(ctx.get('Authorization') || undefined);
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
  };
}

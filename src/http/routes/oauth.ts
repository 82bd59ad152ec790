/**
 * POST /oauth/token (RFC 6749 §3.2): the SAML 2.0 bearer assertion grant (RFC 7522), decided by
 * auth/saml/grant.ts; this file only transports it. Outside the SCIM base, so answers are OAuth
 * JSON (RFC 6749 §5.1/§5.2), never SCIM error bodies. The form is read with a size bound before
 * it is buffered whole; the assertion and the issued token never reach a log line.
 */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { FormFields, TokenResponse } from '../../auth/saml/grant.ts';
import { RETRY_AFTER_SECONDS } from '../../services/errors.ts';
import { FormProblem, readForm } from '../form.ts';

/** The form's size bound: an encoded assertion (64 KiB, assertion.ts) and the other fields. */
export const MAX_TOKEN_FORM_BYTES = 96 * 1024;
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

export type TokenEndpoint = (form: FormFields, authorization: string | undefined) => Promise<TokenResponse>;

function answer(ctx: Context, status: number, body: object, headers: Record<string, string> = {}): void {
  ctx.status = status;
  for (const [name, value] of Object.entries({ ...NO_STORE, ...headers })) ctx.set(name, value);
  ctx.type = 'application/json; charset=utf-8';
  ctx.body = body;
}

export function registerOAuthRoutes(router: Router, grant: TokenEndpoint, logger: Logger): void {
  router.post('/oauth/token', async (ctx) => {
    ctx.state.routeName = 'POST /oauth/token';
    let form: FormFields;
    try {
      form = await readForm(ctx, MAX_TOKEN_FORM_BYTES);
    } catch (error) {
      if (!(error instanceof FormProblem)) throw error;
      return answer(ctx, error.status, { error: 'invalid_request', error_description: error.message });
    }
    let response: TokenResponse;
    try {
      response = await grant(form, ctx.get('Authorization') || undefined);
    } catch (error) {
      // The replay cache or the token store (Redis) could not answer: refuse, never let it pass.
      logger.warn(
        { err: (error as Error).message, requestId: ctx.state.requestId },
        'token grant unavailable',
      );
      return answer(
        ctx,
        503,
        {
          error: 'temporarily_unavailable',
          error_description: 'the token service is unavailable; retry later',
        },
        { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      );
    }
    const { audit } = response;
    if (audit) {
      logger.info({ requestId: ctx.state.requestId, ...audit, scope: response.body.scope }, 'token granted');
    } else {
      ctx.state.errorDetail = `${response.body.error}: ${response.body.error_description}`;
    }
    answer(ctx, response.status, response.body, response.headers);
  });
}

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

/** The form's size bound: an encoded assertion (64 KiB, assertion.ts) and the other fields. */
export const MAX_TOKEN_FORM_BYTES = 96 * 1024;
const FORM_TYPE = 'application/x-www-form-urlencoded';
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

export type TokenEndpoint = (form: FormFields, authorization: string | undefined) => Promise<TokenResponse>;

function answer(ctx: Context, status: number, body: object, headers: Record<string, string> = {}): void {
  ctx.status = status;
  for (const [name, value] of Object.entries({ ...NO_STORE, ...headers })) ctx.set(name, value);
  ctx.type = 'application/json; charset=utf-8';
  ctx.body = body;
}

class FormProblem extends Error {
  readonly status: number;
  constructor(status: number, description: string) {
    super(description);
    this.status = status;
  }
}

/** The form fields; a repeated key becomes an array (grant.ts refuses repeats, RFC 6749 §3.2). */
async function readForm(ctx: Context): Promise<FormFields> {
  const type = (ctx.get('Content-Type') || '').split(';')[0]?.trim().toLowerCase();
  if (type !== FORM_TYPE) throw new FormProblem(400, `the request body must be ${FORM_TYPE}`);
  if (Number(ctx.get('Content-Length') || '0') > MAX_TOKEN_FORM_BYTES) {
    throw new FormProblem(413, `the request body exceeds ${MAX_TOKEN_FORM_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_TOKEN_FORM_BYTES) {
      ctx.req.destroy();
      throw new FormProblem(413, `the request body exceeds ${MAX_TOKEN_FORM_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const fields: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
    // Own keys only: a field named __proto__ is just a field.
    const seen = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (seen === undefined) fields[key] = value;
    else fields[key] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return fields;
}

export function registerOAuthRoutes(router: Router, grant: TokenEndpoint, logger: Logger): void {
  router.post('/oauth/token', async (ctx) => {
    ctx.state.routeName = 'POST /oauth/token';
    let form: FormFields;
    try {
      form = await readForm(ctx);
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

import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { DeadlineExceededError } from '../../lib/deadline.ts';
import { ScimError } from '../../scim/errors.ts';
import { RETRY_AFTER_SECONDS } from '../../services/errors.ts';

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

/**
 * The outermost SCIM error handler: every failure leaves as an RFC 7644 §3.12 error body with
 * application/scim+json. Unexpected exceptions become a 500 whose detail names the request id
 * only; the stack goes to the log.
 */
export function scimErrors(logger: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw ScimError.notFound(`no SCIM endpoint at ${ctx.method} ${ctx.path}`);
      }
      if (ctx.status === 405 && ctx.body === undefined) {
        throw ScimError.methodNotAllowed(
          `${ctx.method} is not allowed on ${ctx.path}`,
          String(ctx.response.get('Allow') ?? ''),
        );
      }
    } catch (error) {
      const scimError = asScimError(error, ctx, logger);
      ctx.status = scimError.status;
      for (const [name, value] of Object.entries(scimError.headers)) ctx.set(name, value);
      ctx.type = SCIM_CONTENT_TYPE;
      ctx.body = scimError.toBody();
      ctx.state.errorDetail =
        scimError.status >= 500
          ? scimError.detail
          : `${scimError.scimType ?? scimError.status}: ${scimError.detail}`;
    }
  };
}

function asScimError(error: unknown, ctx: Context, logger: Logger): ScimError {
  if (error instanceof ScimError) return error;
  // A deadline that passed outside the services (a Redis call of a middleware): still a 503.
  if (error instanceof DeadlineExceededError) {
    return ScimError.unavailable("the request's deadline passed; retry later", RETRY_AFTER_SECONDS);
  }
  // Koa's own HTTP errors (e.g. from ctx.throw) keep their status.
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ScimError(status, (error as Error).message);
  }
  logger.error({ err: error, requestId: ctx.state.requestId }, 'unexpected error');
  return ScimError.internal(
    `internal error; quote request id ${String(ctx.state.requestId)} to the operator`,
  );
}

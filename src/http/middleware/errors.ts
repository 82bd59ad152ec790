import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { DeadlineExceededError } from '../../lib/deadline.ts';
import { ScimError } from '../../scim/errors.ts';
import { RETRY_AFTER_SECONDS } from '../../services/errors.ts';

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

/** Longest detail a client is sent: details quote what the client sent, which may be huge. */
const CLIENT_DETAIL_MAX = 2_000;
/** Longest error text in a log line (detail plus the directory's own words from the cause). */
const LOG_DETAIL_MAX = 1_000;

/**
 * The outermost SCIM error handler: every failure leaves as an RFC 7644 §3.12 error body with
 * application/scim+json. Unexpected exceptions become a 500 whose detail names the request id
 * only; the stack goes to the log. A client that went away mid-request is logged as such.
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
      if (clientAborted(error, ctx)) {
        // Nobody is left to answer; 400 only so the access log writes an info line, not an outage.
        ctx.status = 400;
        ctx.state.errorDetail = 'the client closed the connection before its request was read';
        ctx.state.clientAborted = true;
        return;
      }
      const scimError = asScimError(error, ctx, logger);
      ctx.status = scimError.status;
      for (const [name, value] of Object.entries(scimError.headers)) ctx.set(name, value);
      ctx.type = SCIM_CONTENT_TYPE;
      const body = scimError.toBody();
      body.detail = bounded(body.detail, CLIENT_DETAIL_MAX);
      ctx.body = body;
      ctx.state.errorDetail = logDetail(scimError);
    }
  };
}

/**
 * The error as the log shows it, bounded. A 4xx detail quotes what the client sent (a PATCH path,
 * a filter value, an id), which may be a secret typed in the wrong field: quoted text is left out.
 * The cause (a port error: the LDAP result code and the directory's diagnostic) is kept, for 5xx
 * above all: it is what the operator needs.
 */
function logDetail(error: ScimError): string {
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
  const detail =
    error.status >= 500 ? error.detail : `${error.scimType ?? error.status}: ${unquoted(error.detail)}`;
  return bounded(`${detail}${cause}`, LOG_DETAIL_MAX);
}

/** Double-quoted client text replaced by its length: `"x…"` → `"<7 characters>"`. */
function unquoted(text: string): string {
  return text.replace(/"(?:[^"\\]|\\.)*"/g, (quoted) => `"<${quoted.length - 2} characters>"`);
}

function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** The request stream ended early because the client closed the connection (Node's "aborted"). */
function clientAborted(error: unknown, ctx: Context): boolean {
  if (error instanceof ScimError) return false;
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error as { message?: unknown } | null)?.message;
  return (
    (ctx.req.destroyed || ctx.req.readableAborted) &&
    (code === 'ECONNRESET' || code === 'ECONNABORTED' || message === 'aborted')
  );
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

import type { Context, Next } from 'koa';
import type { Logger } from 'pino';

/**
 * One log line per request: method, route, status, latency, request id, client. Never the query
 * string's values or bodies (filters can hold personal data; bodies hold passwords).
 */
export function accessLog(logger: Logger) {
  return async function logRequest(ctx: Context, next: Next): Promise<void> {
    const started = performance.now();
    try {
      await next();
    } finally {
      if (logger.isLevelEnabled(ctx.status >= 500 ? 'error' : 'info')) write(ctx, started);
    }
  };
  function write(ctx: Context, started: number): void {
    const latencyMs = performance.now() - started;
    const status = ctx.status;
    const fields = {
      requestId: ctx.state.requestId as string | undefined,
      method: ctx.method,
      route: (ctx.state.routeName as string | undefined) ?? ctx.path,
      status,
      latencyMs: Math.round(latencyMs * 100) / 100,
      client: (ctx.state.principal as { name: string } | undefined)?.name,
      // The peer, or behind trusted proxies (server.trustProxy) the client they forwarded for.
      address: (ctx.state.origin as { address: string } | undefined)?.address,
      ...(ctx.state.errorDetail ? { error: ctx.state.errorDetail } : {}),
    };
    if (status >= 500) logger.error(fields, 'request failed');
    else logger.info(fields, 'request');
  }
}

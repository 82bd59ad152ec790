/**
 * Request metrics (docs/architecture.md §Metrics): in-flight requests, and per route template,
 * method and status a latency histogram. The route label is the route's name (`GET /Users/{id}`),
 * never the raw path, so client-chosen ids cannot grow the label set.
 */
import type { Context, Next } from 'koa';
import { httpInFlight, httpRequests, idempotencyOutcomes } from '../../observability/metrics.ts';
import { REPLAYED_HEADER } from './idempotency.ts';

export function requestMetrics() {
  return async function measure(ctx: Context, next: Next): Promise<void> {
    const started = performance.now();
    httpInFlight.inc();
    try {
      await next();
    } finally {
      httpInFlight.dec();
      const route = (ctx.state.routeName as string | undefined) ?? 'unmatched';
      httpRequests.observe(
        { route, method: ctx.method, status: String(ctx.status) },
        (performance.now() - started) / 1000,
      );
      if (ctx.get('Idempotency-Key') !== '') idempotencyOutcomes.inc({ outcome: idempotencyOutcome(ctx) });
    }
  };
}

/**
 * Read from the answer, so the idempotency middleware stays as it is: a replay carries
 * Idempotency-Replayed; 409 with Retry-After (same key in progress) and 422 (key reused for
 * another request) are what it answers for a conflict.
 */
function idempotencyOutcome(ctx: Context): string {
  if (ctx.response.get(REPLAYED_HEADER) === 'true') return 'replayed';
  if ((ctx.status === 409 && ctx.response.get('Retry-After') !== '') || ctx.status === 422) return 'conflict';
  return 'executed';
}

/**
 * GET /metrics: the Prometheus text format, outside the SCIM base path, behind its own bearer
 * token (metrics.token, compared in constant time); not served without one.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Router } from '@koa/router';
import { registry } from '../../observability/metrics.ts';
import { metricsText } from '../../observability/workers.ts';

export function registerMetricsRoute(router: Router, token: string | undefined): void {
  if (token === undefined) return;
  const expected = digest(token);
  router.get('/metrics', async (ctx) => {
    ctx.state.routeName = 'GET /metrics';
    const presented = /^Bearer (.+)$/i.exec(ctx.get('Authorization'))?.[1] ?? '';
    if (!timingSafeEqual(digest(presented), expected)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.body = { status: 401, detail: 'metrics need the metrics bearer token' };
      return;
    }
    ctx.type = registry.contentType;
    // Under server.workers: the sum of every worker (observability/workers.ts).
    ctx.body = await metricsText();
  });
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

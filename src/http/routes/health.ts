/** /health (the process answers) and /ready (its dependencies answer); unauthenticated, outside the SCIM base. */
import type { Router } from '@koa/router';
import { RETRY_AFTER_SECONDS } from '../../services/errors.ts';
import type { ReadinessReport } from '../../services/readiness.ts';

export function registerHealthRoutes(router: Router, readiness: () => Promise<ReadinessReport>): void {
  router.get('/health', (ctx) => {
    ctx.state.routeName = 'GET /health';
    ctx.body = { status: 'ok' };
  });
  router.get('/ready', async (ctx) => {
    ctx.state.routeName = 'GET /ready';
    const report = await readiness();
    ctx.status = report.ready ? 200 : 503;
    if (!report.ready) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    const failing = Object.entries(report.checks)
      .filter(([, c]) => !c.ok)
      .map(([name, c]) => `${name}: ${c.error ?? 'failed'}`);
    ctx.body = {
      status: report.ready ? (report.warnings.length > 0 ? 'degraded' : 'ready') : 'unavailable',
      ...(failing.length > 0 ? { reason: failing.join('; ') } : {}),
      checks: report.checks,
      ...(report.warnings.length > 0 ? { warnings: report.warnings } : {}),
    };
  });
}

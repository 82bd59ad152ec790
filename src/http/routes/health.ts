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
    const failing = Object.entries(report.checks).filter(([, c]) => !c.ok);
    // Where it failed (URLs, ports) goes to the access log only: /ready is unauthenticated.
    if (failing.length > 0) {
      ctx.state.errorDetail = failing.map(([name, c]) => `${name}: ${c.detail ?? c.error}`).join('; ');
    }
    ctx.body = {
      status: report.ready ? (report.warnings.length > 0 ? 'degraded' : 'ready') : 'unavailable',
      ...(failing.length > 0
        ? { reason: failing.map(([name, c]) => `${name}: ${c.error ?? 'failed'}`).join('; ') }
        : {}),
      checks: Object.fromEntries(
        Object.entries(report.checks).map(([name, { detail: _internal, ...shown }]) => [name, shown]),
      ),
      ...(report.warnings.length > 0 ? { warnings: report.warnings } : {}),
      ...(report.directoryServers ? { directoryServers: report.directoryServers } : {}),
    };
  });
}

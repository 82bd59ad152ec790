/**
 * /health (the process answers) and /ready (it can serve); unauthenticated, outside the SCIM base.
 * /ready is 200 with status "ready" or "degraded" (Redis down: reads go on, docs/architecture.md
 * §Redis outage) and 503 "cannot serve" only when a load balancer should take the instance out.
 */
import type { Router } from '@koa/router';
import { RETRY_AFTER_SECONDS } from '../../services/errors.ts';
import { type ReadinessReport, readinessStatus } from '../../services/readiness.ts';

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
      status: readinessStatus(report),
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

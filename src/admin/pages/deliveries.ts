/**
 * Deliveries: the CLI's `jobs` in a page, through the same JobsAdmin (jobs/admin.ts). Queue
 * figures per external service, dead letters with their last error and attempts, and retry and
 * replay as POST forms (audited by the console's core, then post/redirect/get). Our own page, not
 * bull-board: docs/architecture.md §Admin console says why.
 */
import type { JobRow, ServiceStats } from '../../jobs/admin.ts';
import { type Html, html } from '../html.ts';
import { AdminProblem, type AdminRequest, type AdminResponse, type AdminRoute, csrfField } from '../page.ts';
import { timeText } from './common.ts';
import type { AdminPagesDeps, DeliveriesAdmin } from './index.ts';

const LISTED = 100;
/** Job ids are event ids (UUIDs, or the feed's derived ids): printable, no spaces, bounded. */
const JOB_ID = /^[\x21-\x7e]{1,200}$/;

/** The configured service the path names; 404 for any other (or when events are off). */
function serviceNamed(admin: DeliveriesAdmin | undefined, request: AdminRequest): string {
  const service = request.params.service ?? '';
  if (!admin?.services().includes(service))
    throw new AdminProblem(404, `no external service "${service.slice(0, 100)}" in events.services`);
  return service;
}

export function deliveryRoutes(deps: Pick<AdminPagesDeps, 'deliveries'>): AdminRoute[] {
  const admin = deps.deliveries;
  const serviceOf = (request: AdminRequest) => serviceNamed(admin, request);
  return [
    {
      method: 'GET',
      path: '/admin/deliveries',
      nav: { label: 'Deliveries', order: 40 },
      handle: async (request) => ({
        kind: 'page',
        title: 'Deliveries',
        body: await overview(admin, request),
      }),
    },
    {
      method: 'GET',
      path: '/admin/deliveries/:service',
      handle: async (request) => {
        const service = serviceOf(request);
        return {
          kind: 'page',
          title: `Deliveries: ${service}`,
          body: await servicePage(admin, service, request),
        };
      },
    },
    ...repairRoutes(admin),
  ];
}

/** Retry and replay: POST forms, audited by the core, answered with a redirect. */
function repairRoutes(admin: DeliveriesAdmin | undefined): AdminRoute[] {
  const serviceOf = (request: AdminRequest) => serviceNamed(admin, request);
  return [
    {
      method: 'POST',
      path: '/admin/deliveries/retry-all',
      audit: () => ({ action: 'deliveries.retry-all' }),
      handle: async () => {
        const count = admin ? await admin.retryAllFailed() : 0;
        return { kind: 'redirect', location: `/admin/deliveries?retried=${count}` };
      },
    },
    {
      method: 'POST',
      path: '/admin/deliveries/:service/retry',
      audit: (request) => ({
        action: 'deliveries.retry',
        service: request.params.service ?? '',
        job: request.form.jobId ?? '',
      }),
      handle: async (request) => {
        const service = serviceOf(request);
        return done(service, 'retried', await (admin as DeliveriesAdmin).retry(jobIdField(request, 'jobId')));
      },
    },
    {
      method: 'POST',
      path: '/admin/deliveries/:service/replay',
      audit: (request) => ({
        action: 'deliveries.replay',
        service: request.params.service ?? '',
        event: request.form.eventId ?? '',
      }),
      handle: async (request) => {
        const service = serviceOf(request);
        return done(
          service,
          'replayed',
          await (admin as DeliveriesAdmin).replay(jobIdField(request, 'eventId')),
        );
      },
    },
  ];
}

function jobIdField(request: AdminRequest, field: 'jobId' | 'eventId'): string {
  const value = (request.form[field] ?? '').trim();
  if (!JOB_ID.test(value))
    throw new AdminProblem(
      400,
      `${field}: expected an event id (1 to 200 printable characters without spaces)`,
    );
  return value;
}

/** Post/redirect/get: the outcome travels as a count the page words itself (no text in the URL). */
function done(service: string, action: 'retried' | 'replayed', count: number): AdminResponse {
  return {
    kind: 'redirect',
    location: `/admin/deliveries/${encodeURIComponent(service)}?${action}=${count}`,
  };
}

function outcome(request: AdminRequest): Html | false {
  for (const action of ['retried', 'replayed'] as const) {
    const count = Number(request.query.get(action));
    if (request.query.has(action) && Number.isInteger(count) && count >= 0)
      return html`<p class="notice" role="status">${
        count === 0
          ? `Nothing ${action}: no matching ${action === 'retried' ? 'dead letter' : 'delivered or dead-lettered job'}.`
          : `${count} job(s) ${action}: queued again.`
      }</p>`;
  }
  return false;
}

function notEnabled(): Html {
  return html`<p class="muted">Events are not enabled (events.enabled), so nothing is delivered to external services.</p>`;
}

async function overview(admin: DeliveriesAdmin | undefined, request: AdminRequest): Promise<Html> {
  if (!admin) return notEnabled();
  const [stats, dead] = await Promise.all([admin.stats(), admin.list({ failed: true, limit: LISTED })]);
  return html`${outcome(request)}
${statsTable(stats)}
<section aria-labelledby="dead-letters">
  <h2 id="dead-letters">Dead letters (${dead.length}${dead.length === LISTED ? '+' : ''})</h2>
  ${deadLetterTable(dead, request)}
  ${
    dead.length > 0 &&
    html`<form method="post" action="/admin/deliveries/retry-all">${csrfField(request)}
    <button type="submit">Retry every dead letter (all services)</button></form>`
  }
</section>`;
}

function statsTable(stats: ServiceStats[]): Html {
  const ms = (value: number | undefined) => (value === undefined ? '—' : `${value} ms`);
  return html`<div class="table-wrap"><table class="counts">
  <thead><tr><th scope="col">service</th><th scope="col">waiting</th><th scope="col">active</th><th scope="col">delayed</th>
    <th scope="col">failed</th><th scope="col">completed</th><th scope="col">delivered</th><th scope="col">failed attempts</th>
    <th scope="col">latency p50 / p95</th><th scope="col">last delivered</th></tr></thead>
  <tbody>${stats.map(
    (s) => html`<tr>
    <th scope="row"><a href="/admin/deliveries/${encodeURIComponent(s.service)}">${s.service}</a></th>
    <td>${s.waiting}</td><td>${s.active}</td><td>${s.delayed}</td>
    <td${s.failed > 0 ? html` class="bad"` : ''}>${s.failed}</td>
    <td>${s.completed}</td><td>${s.delivered}</td><td>${s.failedAttempts}</td>
    <td>${ms(s.latencyP50Ms)} / ${ms(s.latencyP95Ms)}</td>
    <td>${timeText(s.lastDeliveredAt)}</td>
  </tr>`,
  )}</tbody>
</table></div>`;
}

function deadLetterTable(rows: JobRow[], request: AdminRequest): Html {
  if (rows.length === 0) return html`<p class="ok">No dead letters.</p>`;
  return html`<div class="table-wrap"><table class="dead-letters">
  <thead><tr><th scope="col">service</th><th scope="col">event</th><th scope="col">resource</th><th scope="col">attempts</th>
    <th scope="col">last error</th><th scope="col">created</th><th scope="col">action</th></tr></thead>
  <tbody>${rows.map(
    (r) => html`<tr>
    <td>${r.service}</td>
    <td><code>${r.type}</code><br><code class="muted">${r.jobId}</code></td>
    <td><a href="/admin/resources/${encodeURIComponent(r.resourceType)}/${encodeURIComponent(r.resourceId)}">${r.resourceType} ${r.resourceId}</a></td>
    <td>${r.attemptsMade}</td>
    <td class="bad">${r.failedReason ?? ''}</td>
    <td>${timeText(r.createdAt)}</td>
    <td><form method="post" action="/admin/deliveries/${encodeURIComponent(r.service)}/retry" class="inline">
      ${csrfField(request)}<input type="hidden" name="jobId" value="${r.jobId}">
      <button type="submit" aria-label="Retry ${r.type} of ${r.resourceType} ${r.resourceId} to ${r.service}">Retry</button>
    </form></td>
  </tr>`,
  )}</tbody>
</table></div>`;
}

async function servicePage(
  admin: DeliveriesAdmin | undefined,
  service: string,
  request: AdminRequest,
): Promise<Html> {
  if (!admin) return notEnabled();
  const [stats, pending] = await Promise.all([admin.stats(), admin.list({ service, limit: LISTED })]);
  const dead = pending.filter((r) => r.state === 'failed');
  const waiting = pending.filter((r) => r.state !== 'failed');
  const action = `/admin/deliveries/${encodeURIComponent(service)}`;
  return html`<p><a href="/admin/deliveries">← all services</a></p>${outcome(request)}
${statsTable(stats.filter((s) => s.service === service))}
<section aria-labelledby="dead-letters">
  <h2 id="dead-letters">Dead letters (${dead.length})</h2>
  ${deadLetterTable(dead, request)}
</section>
<section aria-labelledby="pending">
  <h2 id="pending">Not yet delivered (${waiting.length})</h2>
  ${
    waiting.length === 0
      ? html`<p class="muted">Nothing waiting.</p>`
      : html`<ul>${waiting.map((r) => html`<li>${r.state}: <code>${r.type}</code> ${r.resourceType} ${r.resourceId}, ${r.attemptsMade} attempt(s)${r.failedReason ? html` — <span class="bad">${r.failedReason}</span>` : ''}</li>`)}</ul>`
  }
</section>
<section aria-labelledby="replay">
  <h2 id="replay">Replay an event</h2>
  <p class="muted">Delivers a delivered or dead-lettered event again, with the same event id (receivers that de-duplicate ignore it).</p>
  <form method="post" action="${action}/replay" class="filters">${csrfField(request)}
    <div class="wide"><label for="replay-event">Event id</label>
    <input id="replay-event" name="eventId" type="text" required maxlength="200"></div>
    <div><button type="submit">Replay</button></div>
  </form>
</section>`;
}

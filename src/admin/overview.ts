/**
 * The console's overview (/admin): readiness of the directory, Redis and each external service
 * (the /ready report), request and error rates and latency from this instance's metrics, and the
 * last provisioning actions (activity.ts), filterable. Cheap by design: a readiness check, one
 * metrics read and one bounded stream read; it never counts or lists directory entries.
 */
import { httpRequests } from '../observability/metrics.ts';
import type { ReadinessReport } from '../services/readiness.ts';
import type { ActivityLog, ActivityRecord } from './activity.ts';
import { type Html, html } from './html.ts';
import type { AdminRequest, AdminResponse, AdminRoute } from './page.ts';

export interface OverviewParts {
  readonly readiness: () => Promise<ReadinessReport>;
  readonly activity: ActivityLog;
}

/** Records read for the table and its filters: the newest ones only. */
const ACTIVITY_WINDOW = 500;
const ACTIVITY_SHOWN = 50;

interface Traffic {
  requests: number;
  clientErrors: number;
  serverErrors: number;
  meanMs: number;
  p95Ms: number | undefined;
}

/** SCIM traffic since this instance started (the console's own pages left out). */
export async function trafficOf(): Promise<Traffic> {
  const { values } = await httpRequests.get();
  const traffic: Traffic = { requests: 0, clientErrors: 0, serverErrors: 0, meanMs: 0, p95Ms: undefined };
  let seconds = 0;
  const buckets = new Map<number, number>();
  for (const value of values) {
    const labels = value.labels as Record<string, string | number | undefined>;
    if (labels.route === 'admin') continue;
    if (value.metricName?.endsWith('_count')) {
      traffic.requests += value.value;
      const status = Number(labels.status);
      if (status >= 500) traffic.serverErrors += value.value;
      else if (status >= 400) traffic.clientErrors += value.value;
    } else if (value.metricName?.endsWith('_sum')) seconds += value.value;
    else if (value.metricName?.endsWith('_bucket') && labels.le !== '+Inf') {
      const le = Number(labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + value.value);
    }
  }
  if (traffic.requests > 0) traffic.meanMs = (seconds / traffic.requests) * 1000;
  // The 95th percentile's upper bound: the smallest bucket holding 95% of the requests.
  const wanted = traffic.requests * 0.95;
  const bound = [...buckets.entries()].sort(([a], [b]) => a - b).find(([, count]) => count >= wanted);
  if (bound && traffic.requests > 0) traffic.p95Ms = bound[0] * 1000;
  return traffic;
}

function readinessSection(report: ReadinessReport): Html {
  const rows = Object.entries(report.checks).map(
    ([name, check]) => html`<tr><th scope="row">${name}</th>
<td>${check.ok ? html`<span class="ok">up</span>` : html`<span class="bad">down</span>`}</td>
<td>${check.latencyMs} ms</td><td>${check.ok ? '' : (check.detail ?? check.error ?? '')}</td></tr>`,
  );
  const warnings = report.warnings.map((w) => html`<li>${w}</li>`);
  return html`<section aria-labelledby="readiness"><h2 id="readiness">Readiness: ${
    report.ready ? html`<span class="ok">ready</span>` : html`<span class="bad">not ready</span>`
  }</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">Part</th><th scope="col">State</th><th scope="col">Answered in</th><th scope="col">Problem</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${warnings.length > 0 ? html`<h3>Warnings</h3><ul class="warn">${warnings}</ul>` : html`<p class="muted">No warnings.</p>`}
</section>`;
}

function trafficSection(traffic: Traffic): Html {
  const uptime = Math.max(1, process.uptime());
  const rate = (n: number) => `${(n / uptime).toFixed(2)}/s`;
  const errorShare =
    traffic.requests > 0 ? ((traffic.serverErrors / traffic.requests) * 100).toFixed(2) : '0';
  return html`<section aria-labelledby="traffic"><h2 id="traffic">Requests on this instance</h2>
<p class="muted">Since it started ${Math.round(uptime / 60)} min ago (the metrics at /metrics hold the same series per route).</p>
<div class="grid">
<div class="card"><h3>Requests</h3><p class="figure">${traffic.requests}</p><p>${rate(traffic.requests)}</p></div>
<div class="card"><h3>Server errors (5xx)</h3><p class="figure">${traffic.serverErrors}</p><p>${errorShare}% · ${rate(traffic.serverErrors)}</p></div>
<div class="card"><h3>Client errors (4xx)</h3><p class="figure">${traffic.clientErrors}</p><p>${rate(traffic.clientErrors)}</p></div>
<div class="card"><h3>Latency</h3><p class="figure">${traffic.meanMs.toFixed(1)} ms</p><p>mean; 95% under ${traffic.p95Ms === undefined ? '–' : `${traffic.p95Ms} ms`}</p></div>
</div></section>`;
}

export interface ActivityFilter {
  readonly outcome: 'all' | 'failed' | 'ok';
  readonly client: string;
  readonly resourceType: string;
}

export function filterOf(query: URLSearchParams): ActivityFilter {
  const outcome = query.get('outcome');
  return {
    outcome: outcome === 'failed' || outcome === 'ok' ? outcome : 'all',
    client: (query.get('client') ?? '').trim().slice(0, 200),
    resourceType: (query.get('type') ?? '').trim().slice(0, 200),
  };
}

export function matches(record: ActivityRecord, filter: ActivityFilter): boolean {
  const failed = record.status >= 400;
  if (filter.outcome === 'failed' && !failed) return false;
  if (filter.outcome === 'ok' && failed) return false;
  if (filter.client !== '' && record.client !== filter.client) return false;
  return (
    filter.resourceType === '' || record.resourceType.toLowerCase() === filter.resourceType.toLowerCase()
  );
}

function option(value: string, label: string, selected: string): Html {
  return html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;
}

function activityRow(r: ActivityRecord): Html {
  const failed = r.status >= 400;
  const error = failed
    ? html`${r.scimType ? html`<code>${r.scimType}</code> ` : ''}${r.detail ?? ''}${
        r.ldapResultCode !== undefined
          ? html`<br><span class="muted">LDAP result ${r.ldapResultCode}</span>`
          : ''
      }`
    : '';
  return html`<tr><td>${r.at.replace('T', ' ').slice(0, 19)}</td><td>${r.client}</td><td>${r.method}</td>
<td>${r.resourceType}${r.resourceId ? html`<br><code>${r.resourceId}</code>` : ''}</td>
<td class="${failed ? 'bad' : 'ok'}">${r.status}</td><td>${error}</td></tr>`;
}

function activitySection(records: readonly ActivityRecord[], filter: ActivityFilter): Html {
  const shown = records.filter((r) => matches(r, filter)).slice(0, ACTIVITY_SHOWN);
  return html`<section aria-labelledby="activity"><h2 id="activity">Last provisioning actions</h2>
<form method="get" action="/admin" class="filters">
<div><label for="f-outcome">Outcome</label><select id="f-outcome" name="outcome">${option('all', 'All', filter.outcome)}${option('failed', 'Failed', filter.outcome)}${option('ok', 'Succeeded', filter.outcome)}</select></div>
<div><label for="f-client">Client</label><input type="text" id="f-client" name="client" value="${filter.client}"></div>
<div><label for="f-type">Resource type</label><input type="text" id="f-type" name="type" value="${filter.resourceType}" placeholder="Users"></div>
<div><button type="submit">Filter</button></div>
</form>
${
  shown.length === 0
    ? html`<p class="muted">No SCIM writes match (of the last ${ACTIVITY_WINDOW} recorded).</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">When (UTC)</th><th scope="col">Client</th><th scope="col">Operation</th><th scope="col">Resource</th><th scope="col">Status</th><th scope="col">Error</th></tr></thead>
<tbody>${shown.map(activityRow)}</tbody></table></div>`
}
</section>`;
}

async function overview(parts: OverviewParts, request: AdminRequest): Promise<AdminResponse> {
  const [report, traffic, records] = await Promise.all([
    parts.readiness(),
    trafficOf(),
    parts.activity.recent(ACTIVITY_WINDOW).catch(() => undefined),
  ]);
  const activity =
    records === undefined
      ? html`<h2>Last provisioning actions</h2><p class="notice error">Redis did not answer: the activity cannot be shown.</p>`
      : activitySection(records, filterOf(request.query));
  return {
    kind: 'page',
    title: 'Overview',
    body: html`${readinessSection(report)}${trafficSection(traffic)}${activity}`,
  };
}

export function overviewRoutes(parts: OverviewParts): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin',
      nav: { label: 'Overview', order: 0 },
      handle: (request) => overview(parts, request),
    },
  ];
}

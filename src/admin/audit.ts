/** The audit page (/admin/audit): the newest console actions from the shared audit stream. */
import type { AuditLog, AuditRecord } from './audit-log.ts';
import { html } from './html.ts';
import type { AdminResponse, AdminRoute } from './page.ts';

const SHOWN = 200;

function row(r: AuditRecord) {
  const detail = Object.entries(r.detail).map(
    ([k, v]) => html`<div><span class="muted">${k}:</span> ${v}</div>`,
  );
  const outcome = r.outcome === 'ok' ? 'ok' : 'bad';
  return html`<tr><td>${r.at.replace('T', ' ').slice(0, 19)}</td><td>${r.who}<br><span class="muted">${r.via}</span></td>
<td><code>${r.action}</code>${detail}</td><td>${r.from}</td><td class="${outcome}">${r.outcome} (${r.status})</td></tr>`;
}

async function auditPage(log: AuditLog): Promise<AdminResponse> {
  const records = await log.recent(SHOWN).catch(() => undefined);
  const body =
    records === undefined
      ? html`<p class="notice error">Redis did not answer: the audit log cannot be shown (every record is also in the bridge's log).</p>`
      : html`<p class="muted">Every sign-in, sign-out, console form and refusal, on every instance; the newest ${SHOWN}.</p>
<div class="table-wrap"><table><thead><tr><th scope="col">When (UTC)</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">From</th><th scope="col">Outcome</th></tr></thead>
<tbody>${records.map(row)}</tbody></table></div>`;
  return { kind: 'page', title: 'Audit log', body };
}

export function auditRoutes(log: AuditLog): AdminRoute[] {
  return [
    { method: 'GET', path: '/admin/audit', nav: { label: 'Audit', order: 90 }, handle: () => auditPage(log) },
  ];
}

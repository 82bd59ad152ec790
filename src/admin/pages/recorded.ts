/**
 * The preview's recorded requests (issue 20: "paste a SCIM request, or pick a recorded one"): the
 * last SCIM writes to this resource type's endpoint, as admin/recorded-requests.ts kept them
 * (secrets removed), each loadable into the preview form by its stream id.
 */
import type { CompiledResourceType } from '../../mapping/compiled.ts';
import { type Html, html } from '../html.ts';
import { AdminProblem } from '../page.ts';
import type { RecordedRequest } from '../recorded-requests.ts';
import { typeSegment } from './common.ts';
import type { AdminPagesDeps } from './index.ts';

/** Requests read from the stream to find this type's; those shown. */
const SCANNED = 200;
const SHOWN = 20;

function forType(rt: CompiledResourceType, path: string): boolean {
  const endpoint = rt.endpoint.toLowerCase();
  const lower = path.toLowerCase();
  return lower === endpoint || lower.startsWith(`${endpoint}/`) || lower.startsWith(`${endpoint}?`);
}

/** The recorded request to load into the form; a 404 page when it is gone or not this type's. */
export async function loadRecorded(
  deps: AdminPagesDeps,
  rt: CompiledResourceType,
  id: string,
): Promise<RecordedRequest> {
  const recorded = deps.recorded
    ? await deps.recorded.get(id).catch(() => {
        throw new AdminProblem(503, 'Redis did not answer: the recorded requests cannot be read.');
      })
    : undefined;
  if (!recorded || !forType(rt, recorded.path))
    throw new AdminProblem(
      404,
      `recorded: no recorded ${rt.name} request "${id.slice(0, 40)}" (it may have been trimmed away)`,
    );
  return recorded;
}

function row(rt: CompiledResourceType, r: RecordedRequest): Html {
  const bad = r.status >= 400;
  const load = `/admin/mappings/${typeSegment(rt)}/preview?${new URLSearchParams({ recorded: r.id })}`;
  return html`<tr><td>${r.at.replace('T', ' ').slice(0, 19)}</td><td>${r.client}</td>
<td><code>${r.method} ${r.path}</code>${r.bodyOmitted ? html`<div class="muted">body left out: ${r.bodyOmitted}</div>` : ''}</td>
<td class="${bad ? 'bad' : 'ok'}">${r.status}</td>
<td><a href="${load}" aria-label="Load ${r.method} ${r.path} of ${r.at} into the form">Load</a></td></tr>`;
}

/** The list of this type's recorded requests, newest first. */
export async function recordedSection(deps: AdminPagesDeps, rt: CompiledResourceType): Promise<Html> {
  const heading = html`<h2 id="recorded">Recorded requests</h2>`;
  if (!deps.recorded)
    return html`<section aria-labelledby="recorded">${heading}<p class="muted">No requests are recorded (admin.recordedRequests is 0).</p></section>`;
  const all = await deps.recorded.recent(SCANNED).catch(() => undefined);
  if (all === undefined)
    return html`<section aria-labelledby="recorded">${heading}<p class="notice error">Redis did not answer: the recorded requests cannot be shown.</p></section>`;
  const mine = all.filter((r) => forType(rt, r.path)).slice(0, SHOWN);
  if (mine.length === 0)
    return html`<section aria-labelledby="recorded">${heading}<p class="muted">No ${rt.endpoint} writes recorded yet.</p></section>`;
  return html`<section aria-labelledby="recorded">${heading}
<p class="muted">The last SCIM writes to ${rt.endpoint} on every instance, secrets removed. Load one into the form, then preview it.</p>
<div class="table-wrap"><table class="recorded">
<thead><tr><th scope="col">When (UTC)</th><th scope="col">Client</th><th scope="col">Request</th><th scope="col">Status</th><th scope="col">Action</th></tr></thead>
<tbody>${mine.map((r) => row(rt, r))}</tbody></table></div></section>`;
}

/**
 * Resources: search a resource type with a SCIM filter and page with the bridge's own RFC 9865
 * cursors (the list use case), open one: the resource, its LDAP entry (secrets as "(set)"), its
 * group memberships and its recent events (from the delivery queues).
 */
import type { JobRow } from '../../jobs/admin.ts';
import type { CompiledResourceType } from '../../mapping/compiled.ts';
import { isPlainObject, type ScimObject } from '../../scim/resource.ts';
import { type Html, html } from '../html.ts';
import type { AdminRequest, AdminRoute } from '../page.ts';
import {
  bounded,
  contextFor,
  queryValue,
  resourceTypeOf,
  scimCall,
  timeText,
  typeSegment,
} from './common.ts';
import { entrySideBySide, shown } from './entry-view.ts';
import type { AdminPagesDeps } from './index.ts';

const PAGE_SIZE = 25;
const MAX_FILTER = 2000;
const MAX_CURSOR = 2000;
const EVENTS_SHOWN = 20;

export function resourceRoutes(deps: AdminPagesDeps): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/resources',
      nav: { label: 'Resources', order: 30 },
      handle: async () => ({ kind: 'page', title: 'Resources', body: typeIndex(deps) }),
    },
    {
      method: 'GET',
      path: '/admin/resources/:type',
      handle: async (request) => {
        const rt = resourceTypeOf(deps.mappings.current(), request.params.type);
        return { kind: 'page', title: rt.endpoint.slice(1), body: await searchPage(deps, rt, request) };
      },
    },
    {
      method: 'GET',
      path: '/admin/resources/:type/:id',
      handle: async (request) => {
        const rt = resourceTypeOf(deps.mappings.current(), request.params.type);
        return { kind: 'page', ...(await resourcePage(deps, rt, request)) };
      },
    },
  ];
}

function typeIndex(deps: AdminPagesDeps): Html {
  return html`<ul>${deps.mappings
    .current()
    .resourceTypes.map(
      (rt) =>
        html`<li><a href="/admin/resources/${typeSegment(rt)}">${rt.endpoint.slice(1)}</a> — ${rt.description}</li>`,
    )}</ul>`;
}

/** The name a list shows for a resource: userName, displayName, or its id. */
function nameOf(resource: ScimObject): string {
  const name = resource.userName ?? resource.displayName ?? resource.id;
  return typeof name === 'string' ? name : '';
}

async function searchPage(
  deps: AdminPagesDeps,
  rt: CompiledResourceType,
  request: AdminRequest,
): Promise<Html> {
  const filter = bounded(queryValue(request, 'filter'), 'filter', MAX_FILTER);
  const cursor = bounded(queryValue(request, 'cursor'), 'cursor', MAX_CURSOR);
  const result = await scimCall(filter ? `filter ${JSON.stringify(filter)}` : 'list', () =>
    deps.resources.list({
      resourceType: rt,
      // The list shows names only: a group's members are not read for it.
      query: {
        ...(filter ? { filter } : {}),
        cursor: cursor ?? '',
        count: PAGE_SIZE,
        excludedAttributes: ['members', 'groups'],
      },
      ctx: contextFor(request, deps.scimBaseUrl),
    }),
  );
  const page = (c: string) =>
    `/admin/resources/${typeSegment(rt)}?${new URLSearchParams({ ...(filter ? { filter } : {}), cursor: c })}`;
  return html`<form method="get" action="/admin/resources/${typeSegment(rt)}" class="filters" role="search">
  <div class="wide"><label for="filter">SCIM filter</label>
  <input id="filter" name="filter" type="search" size="60" value="${filter ?? ''}"
    placeholder="${rt.name === 'User' ? 'userName sw "a"' : 'displayName co "team"'}"></div>
  <div><button type="submit">Search</button></div>
</form>
<p>${result.totalResults} match(es)${filter ? html` for <code>${filter}</code>` : ''}.</p>
<div class="table-wrap"><table class="results">
  <thead><tr><th scope="col">name</th><th scope="col">id</th><th scope="col">active</th><th scope="col">last modified</th></tr></thead>
  <tbody>${result.Resources.map((r) => {
    const id = typeof r.id === 'string' ? r.id : '';
    const meta = isPlainObject(r.meta) ? r.meta : {};
    return html`<tr>
      <td><a href="/admin/resources/${typeSegment(rt)}/${encodeURIComponent(id)}">${nameOf(r)}</a></td>
      <td><code>${id}</code></td>
      <td>${typeof r.active === 'boolean' ? String(r.active) : ''}</td>
      <td>${typeof meta.lastModified === 'string' ? meta.lastModified : ''}</td>
    </tr>`;
  })}</tbody>
</table></div>
<nav class="pager" aria-label="Pages">
  ${result.previousCursor && html`<a rel="prev" href="${page(result.previousCursor)}">← previous</a>`}
  ${result.nextCursor && html`<a rel="next" href="${page(result.nextCursor)}">next →</a>`}
</nav>`;
}

async function resourcePage(
  deps: AdminPagesDeps,
  rt: CompiledResourceType,
  request: AdminRequest,
): Promise<{ title: string; body: Html }> {
  const id = request.params.id ?? '';
  const inspected = await scimCall(`${rt.name} "${id}"`, () =>
    deps.resources.inspect({ resourceType: rt, ref: { id }, ctx: contextFor(request, deps.scimBaseUrl) }),
  );
  const events = deps.deliveries
    ? await deps.deliveries.eventsOf(rt.name, id, { limit: EVENTS_SHOWN })
    : undefined;
  const resource = inspected.resource;
  const body = html`<p><a href="/admin/resources/${typeSegment(rt)}">← ${rt.endpoint.slice(1)}</a></p>
${memberships(resource)}
${entrySideBySide(inspected)}
${eventTable(events)}`;
  return { title: `${rt.name}: ${nameOf(resource)}`, body };
}

/** References to other resources: `groups` (memberships) and `members`, as links. */
function memberships(resource: ScimObject): Html {
  const section = (attribute: string, title: string, endpoint: string) => {
    const values = Array.isArray(resource[attribute]) ? (resource[attribute] as unknown[]) : undefined;
    if (values === undefined) return '';
    return html`<section aria-labelledby="${attribute}-list">
  <h2 id="${attribute}-list">${title} (${values.length})</h2>
  ${values.length === 0 ? html`<p class="muted">none</p>` : ''}
  <ul>${shown(
    values.filter(isPlainObject),
    (v) => {
      const value = typeof v.value === 'string' ? v.value : '';
      const label = typeof v.display === 'string' ? v.display : value;
      // A member may be a group (RFC 7643 §4.2: type "Group").
      const target = v.type === 'Group' ? 'Groups' : endpoint;
      return html`<li><a href="/admin/resources/${target}/${encodeURIComponent(value)}">${label}</a></li>`;
    },
    true,
  )}</ul>
</section>`;
  };
  return html`${section('groups', 'Group memberships', 'Groups')}${section('members', 'Members', 'Users')}`;
}

function eventTable(events: JobRow[] | undefined): Html {
  if (events === undefined)
    return html`<section aria-labelledby="events"><h2 id="events">Recent events</h2>
  <p class="muted">Events are not enabled (events.enabled).</p></section>`;
  if (events.length === 0)
    return html`<section aria-labelledby="events"><h2 id="events">Recent events</h2>
  <p class="muted">None held in the delivery queues.</p></section>`;
  return html`<section aria-labelledby="events">
  <h2 id="events">Recent events</h2>
  <div class="table-wrap"><table class="events">
    <thead><tr><th scope="col">time</th><th scope="col">event</th><th scope="col">service</th><th scope="col">state</th>
      <th scope="col">attempts</th><th scope="col">by</th><th scope="col">changed</th><th scope="col">last error</th></tr></thead>
    <tbody>${events.map(
      (e) => html`<tr>
      <td>${timeText(e.createdAt)}</td>
      <td><code>${e.type}</code> <span class="muted">${e.origin}</span></td>
      <td><a href="/admin/deliveries/${encodeURIComponent(e.service)}">${e.service}</a></td>
      <td class="state-${e.state}">${e.state}</td>
      <td>${e.attemptsMade}</td>
      <td>${e.actor}</td>
      <td>${e.changedAttributes.join(', ')}</td>
      <td>${e.failedReason ?? ''}</td>
    </tr>`,
    )}</tbody>
  </table></div>
</section>`;
}

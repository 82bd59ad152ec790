/**
 * The mapping page's two tools, both plain GET forms (they change nothing, so their results can
 * be linked and reloaded): the preview of a SCIM request — the LDAP operations it would perform,
 * from the same implementation as `scim-ldap-bridge preview` (services/preview.ts), which never
 * writes to the directory — and an entry picked by DN or id, side by side with its resource.
 */
import type { CompiledResourceType } from '../../mapping/compiled.ts';
import { PreviewUsageError, previewAgainst } from '../../services/preview.ts';
import { formatPreview } from '../../services/preview-text.ts';
import { type Html, html } from '../html.ts';
import { AdminProblem, type AdminRequest, type AdminRoute } from '../page.ts';
import { bounded, contextFor, queryValue, resourceTypeOf, scimCall, typeSegment } from './common.ts';
import { entrySideBySide } from './entry-view.ts';
import type { AdminPagesDeps } from './index.ts';
import { loadRecorded, recordedSection } from './recorded.ts';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** A GET form's fields travel in the URL; Node takes request heads up to 16 KiB. */
const MAX_BODY = 8000;
const MAX_FIELD = 1000;

interface PreviewFields {
  method?: string;
  path?: string;
  body?: string;
  ifMatch?: string;
}

export function previewRoutes(deps: AdminPagesDeps): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/mappings/:type/preview',
      handle: async (request) => {
        const rt = resourceTypeOf(deps.mappings.current(), request.params.type);
        return { kind: 'page', title: `Preview: ${rt.name}`, body: await previewPage(deps, rt, request) };
      },
    },
    {
      method: 'GET',
      path: '/admin/mappings/:type/entry',
      handle: async (request) => {
        const rt = resourceTypeOf(deps.mappings.current(), request.params.type);
        return { kind: 'page', title: `Entry: ${rt.name}`, body: await entryPage(deps, rt, request) };
      },
    },
  ];
}

function previewFields(request: AdminRequest): PreviewFields {
  const method = queryValue(request, 'method')?.toUpperCase();
  if (method !== undefined && !(METHODS as readonly string[]).includes(method))
    throw new AdminProblem(400, `method: "${method.slice(0, 20)}" is not one of ${METHODS.join(', ')}`);
  const fields: PreviewFields = {};
  if (method) fields.method = method;
  const path = bounded(queryValue(request, 'path'), 'path', MAX_FIELD);
  if (path) fields.path = path;
  const body = bounded(queryValue(request, 'body'), 'body', MAX_BODY);
  if (body) fields.body = body;
  const ifMatch = bounded(queryValue(request, 'ifMatch'), 'If-Match', MAX_FIELD);
  if (ifMatch) fields.ifMatch = ifMatch;
  return fields;
}

async function previewPage(
  deps: AdminPagesDeps,
  rt: CompiledResourceType,
  request: AdminRequest,
): Promise<Html> {
  const back = html`<p><a href="/admin/mappings/${typeSegment(rt)}">← ${rt.name} mapping</a></p>`;
  const recordedId = bounded(queryValue(request, 'recorded'), 'recorded', 50);
  if (recordedId !== undefined) {
    const r = await loadRecorded(deps, rt, recordedId);
    const fields = { method: r.method, path: r.path, ...(r.body !== undefined ? { body: r.body } : {}) };
    const loaded = html`<p class="notice" role="status">Loaded the ${r.method} of ${r.at.replace('T', ' ').slice(0, 19)} UTC by ${r.client} (SCIM ${r.status}); secrets were removed when it was recorded.</p>`;
    return html`${back}${loaded}${previewForm(rt, fields)}${await recordedSection(deps, rt)}`;
  }
  const fields = previewFields(request);
  if (!fields.method || !fields.path)
    return html`${back}${previewForm(rt, fields)}${await recordedSection(deps, rt)}`;
  let body: unknown;
  if (fields.body !== undefined) {
    try {
      body = JSON.parse(fields.body);
    } catch (error) {
      throw new AdminProblem(400, `body: not JSON: ${(error as Error).message}`);
    }
  }
  let result: Awaited<ReturnType<typeof previewAgainst>>;
  try {
    result = await scimCall('preview', () =>
      previewAgainst(deps.directory, deps.mappings.current(), {
        method: fields.method as string,
        path: fields.path as string,
        ...(body !== undefined ? { body } : {}),
        ...(fields.ifMatch ? { ifMatch: fields.ifMatch } : {}),
      }),
    );
  } catch (error) {
    if (error instanceof PreviewUsageError) throw new AdminProblem(400, `preview: ${error.message}`);
    throw error;
  }
  return html`${back}
${previewForm(rt, fields)}
<section aria-labelledby="preview-result" class="preview-result">
  <h2 id="preview-result">${fields.method} ${fields.path}: ${result.operations.length} LDAP operation(s), SCIM ${result.status}</h2>
  <p class="muted">${
    result.target === 'directory'
      ? 'The target was read from the directory (secrets left out); nothing was written.'
      : 'Entries looked up by id are simulated; nothing was read from or written to the directory.'
  }</p>
  ${result.error && html`<p class="notice error">SCIM ${result.status}${result.error.scimType ? ` ${result.error.scimType}` : ''}: ${result.error.detail}</p>`}
  <pre class="ldif">${formatPreview(result)}</pre>
</section>`;
}

/** The preview form, filled with what was asked (the mapping page shows it empty). */
export function previewForm(rt: CompiledResourceType, fields: PreviewFields): Html {
  const method = fields.method ?? 'PATCH';
  return html`<section aria-labelledby="preview-form">
  <h2 id="preview-form">Preview a SCIM request</h2>
  <p>Paste a request, or <a href="/admin/mappings/${typeSegment(rt)}/preview#recorded">pick a recorded one</a>.</p>
  <form method="get" action="/admin/mappings/${typeSegment(rt)}/preview" class="stack">
    <label for="preview-method">Method</label>
    <select id="preview-method" name="method">
      ${METHODS.map((m) => html`<option${m === method ? html` selected` : ''}>${m}</option>`)}
    </select>
    <label for="preview-path">Path</label>
    <input id="preview-path" name="path" type="text" required value="${fields.path ?? `${rt.endpoint}/`}"
      aria-describedby="preview-path-hint">
    <p id="preview-path-hint" class="muted">${rt.endpoint}, ${rt.endpoint}/&lt;id&gt;, or ${rt.endpoint}?filter=…</p>
    <label for="preview-body">JSON body</label>
    <textarea id="preview-body" name="body" rows="10" spellcheck="false">${fields.body ?? ''}</textarea>
    <label for="preview-if-match">If-Match (optional)</label>
    <input id="preview-if-match" name="ifMatch" type="text" value="${fields.ifMatch ?? ''}">
    <button type="submit">Preview</button>
  </form>
</section>`;
}

async function entryPage(
  deps: AdminPagesDeps,
  rt: CompiledResourceType,
  request: AdminRequest,
): Promise<Html> {
  const entryRef = bounded(queryValue(request, 'ref'), 'DN or id', MAX_FIELD);
  const back = html`<p><a href="/admin/mappings/${typeSegment(rt)}">← ${rt.name} mapping</a></p>`;
  if (entryRef === undefined) return html`${back}${entryForm(rt, '')}`;
  // A DN has an `=`; a SCIM id (the entry's UUID) does not.
  const ref = entryRef.includes('=') ? { dn: entryRef } : { id: entryRef };
  const inspected = await scimCall('entry', () =>
    deps.resources.inspect({ resourceType: rt, ref, ctx: contextFor(request, deps.scimBaseUrl) }),
  );
  return html`${back}${entryForm(rt, entryRef)}${entrySideBySide(inspected)}`;
}

export function entryForm(rt: CompiledResourceType, value: string): Html {
  return html`<section aria-labelledby="entry-form">
  <h2 id="entry-form">Read an entry as a ${rt.name}</h2>
  <form method="get" action="/admin/mappings/${typeSegment(rt)}/entry" class="filters">
    <div class="wide"><label for="entry-ref">DN or id</label>
    <input id="entry-ref" name="ref" type="text" required value="${value}"></div>
    <div><button type="submit">Show</button></div>
  </form>
</section>`;
}

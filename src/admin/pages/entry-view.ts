/**
 * A directory entry side by side with the SCIM resource it reads as (the resource page and the
 * mapping page's "pick an entry"). Secret values arrive as "(set)" from the use case.
 */
import type { InspectedEntry } from '../../services/resources/inspect.ts';
import { type Html, html } from '../html.ts';
import { prettyJson } from './common.ts';

/** Values shown per attribute: a group of 100,000 members stays a page, not megabytes. */
export const VALUES_SHOWN = 100;

/** The first VALUES_SHOWN items, then how many more there are (a list item inside a list). */
export function shown<T>(values: readonly T[], each: (value: T) => Html, inList = false): Html {
  const more = values.length - VALUES_SHOWN;
  const note = inList
    ? html`<li class="muted">… and ${more} more</li>`
    : html`<p class="muted">… and ${more} more</p>`;
  return html`${values.slice(0, VALUES_SHOWN).map(each)}${more > 0 && note}`;
}

/** The resource with its long lists cut to VALUES_SHOWN, and which lists were cut. */
function shortened(resource: Record<string, unknown>): { resource: Record<string, unknown>; cut: string[] } {
  const cut: string[] = [];
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(resource)) {
    const long = Array.isArray(value) && value.length > VALUES_SHOWN;
    if (long) cut.push(`${name}: the first ${VALUES_SHOWN} of ${value.length}`);
    copy[name] = long ? value.slice(0, VALUES_SHOWN) : value;
  }
  return { resource: copy, cut };
}

export function entrySideBySide(inspected: InspectedEntry): Html {
  const { resource, cut } = shortened(inspected.resource);
  return html`<div class="grid side-by-side">
  <section aria-labelledby="ldap-entry">
    <h2 id="ldap-entry">LDAP entry</h2>
    <p class="dn">dn: <code>${inspected.dn}</code></p>
    <div class="table-wrap"><table class="entry">
      <thead><tr><th scope="col">attribute</th><th scope="col">values</th></tr></thead>
      <tbody>
        ${inspected.attributes.map(
          (a) => html`<tr${a.secret ? html` class="secret"` : ''}>
          <th scope="row"><code>${a.name}</code>${a.binary ? html` <span class="muted">(base64)</span>` : ''}</th>
          <td>${shown(a.values, (v) => html`<div><code>${v}</code></div>`)}</td>
        </tr>`,
        )}
      </tbody>
    </table></div>
  </section>
  <section aria-labelledby="scim-resource">
    <h2 id="scim-resource">SCIM resource</h2>
    ${cut.length > 0 && html`<p class="muted">Shortened: ${cut.join('; ')}.</p>`}
    <pre class="json">${prettyJson(resource)}</pre>
  </section>
</div>`;
}

/**
 * A directory entry side by side with the SCIM resource it reads as (the resource page and the
 * mapping page's "pick an entry"). Secret values arrive as "(set)" from the use case.
 */
import type { InspectedEntry } from '../../services/resources/inspect.ts';
import { type Html, html } from '../html.ts';
import { prettyJson } from './common.ts';

export function entrySideBySide(inspected: InspectedEntry): Html {
  return html`<div class="side-by-side">
  <section aria-labelledby="ldap-entry">
    <h2 id="ldap-entry">LDAP entry</h2>
    <p class="dn">dn: <code>${inspected.dn}</code></p>
    <table class="entry">
      <thead><tr><th scope="col">attribute</th><th scope="col">values</th></tr></thead>
      <tbody>
        ${inspected.attributes.map(
          (a) => html`<tr${a.secret ? html` class="secret"` : ''}>
          <th scope="row"><code>${a.name}</code>${a.binary ? html` <span class="muted">(base64)</span>` : ''}</th>
          <td>${a.values.map((v) => html`<div><code>${v}</code></div>`)}</td>
        </tr>`,
        )}
      </tbody>
    </table>
  </section>
  <section aria-labelledby="scim-resource">
    <h2 id="scim-resource">SCIM resource</h2>
    <pre class="json">${prettyJson(inspected.resource)}</pre>
  </section>
</div>`;
}

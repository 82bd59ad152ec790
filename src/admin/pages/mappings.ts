/**
 * Mappings: each resource type's mapping file with its validation state (problems exactly as
 * `scim-ldap-bridge validate` prints them, mapping/problems.ts formatProblem), the attribute
 * table, and the last hot reload (docs/architecture.md §Mappings). What is shown is the set in
 * service; after a failed reload that is the last good one, and the page says so.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { CompiledResourceType, CompiledRule } from '../../mapping/compiled.ts';
import { formatProblem, type MappingProblem } from '../../mapping/problems.ts';
import { type Html, html } from '../html.ts';
import type { AdminRoute } from '../page.ts';
import { resourceTypeOf, timeText, typeSegment } from './common.ts';
import type { AdminPagesDeps, MappingsView } from './index.ts';
import { entryForm, previewForm } from './preview.ts';

export function mappingRoutes(deps: Pick<AdminPagesDeps, 'mappings'>): AdminRoute[] {
  const { mappings } = deps;
  return [
    {
      method: 'GET',
      path: '/admin/mappings',
      nav: { label: 'Mappings', order: 20 },
      handle: async () => ({ kind: 'page', title: 'Mappings', body: mappingsIndex(mappings) }),
    },
    {
      method: 'GET',
      path: '/admin/mappings/:type',
      handle: async (request) => {
        const rt = resourceTypeOf(mappings.current(), request.params.type);
        return { kind: 'page', title: `Mapping: ${rt.name}`, body: await mappingPage(mappings, rt) };
      },
    },
  ];
}

/** State of the set in service and of the last reload; problems as the CLI prints them. */
function reloadState(mappings: MappingsView): Html {
  const set = mappings.current();
  const last = mappings.lastReload();
  const problems = mappings.problems();
  return html`<section aria-labelledby="reload-state">
  <h2 id="reload-state">State</h2>
  <dl class="facts">
    <dt>Directory</dt><dd><code>${mappings.dir}</code></dd>
    <dt>In service since</dt><dd>${timeText(set.loadedAt)}</dd>
    <dt>Last hot reload</dt>
    <dd>${
      last
        ? html`${timeText(last.at)} (${last.reason}):
          ${last.ok ? html`<span class="ok">valid, in service</span>` : html`<span class="bad">refused, the last good mapping stays in service</span>`}`
        : html`<span class="muted">none since start-up</span>`
    }</dd>
  </dl>
  ${problems.length > 0 && problemList(problems)}
</section>`;
}

function problemList(problems: readonly MappingProblem[]): Html {
  return html`<ul class="problems" aria-label="Mapping problems">
    ${problems.map((p) => html`<li><code>${formatProblem(p)}</code></li>`)}
  </ul>`;
}

function mappingsIndex(mappings: MappingsView): Html {
  const problems = mappings.problems();
  return html`${reloadState(mappings)}
<section aria-labelledby="resource-types">
  <h2 id="resource-types">Resource types</h2>
  <div class="table-wrap"><table>
    <thead><tr><th scope="col">resource type</th><th scope="col">endpoint</th><th scope="col">file</th>
      <th scope="col">attributes</th><th scope="col">validation</th></tr></thead>
    <tbody>
    ${mappings.current().resourceTypes.map((rt) => {
      const own = problems.filter((p) => p.file === rt.file).length;
      return html`<tr>
        <td><a href="/admin/mappings/${typeSegment(rt)}">${rt.name}</a></td>
        <td><code>${rt.endpoint}</code></td>
        <td><code>${basename(rt.file)}</code></td>
        <td>${rt.rules.length}</td>
        <td>${own === 0 ? html`<span class="ok">valid</span>` : html`<span class="bad">${own} problem(s) on disk</span>`}</td>
      </tr>`;
    })}
    </tbody>
  </table></div>
</section>`;
}

async function mappingPage(mappings: MappingsView, rt: CompiledResourceType): Promise<Html> {
  const problems = mappings.problems().filter((p) => p.file === rt.file);
  const text = await readFile(rt.file, 'utf8').catch((error: Error) => `(cannot read: ${error.message})`);
  const d = rt.directory;
  return html`${reloadState(mappings)}
<section aria-labelledby="validation">
  <h2 id="validation">Validation of <code>${basename(rt.file)}</code></h2>
  ${
    problems.length === 0
      ? html`<p class="ok">valid: the file on disk is the one in service</p>`
      : html`<p class="bad">the file on disk has ${problems.length} problem(s); the last good version is in service</p>${problemList(problems)}`
  }
</section>
<section aria-labelledby="directory-block">
  <h2 id="directory-block">Directory</h2>
  <dl class="facts">
    <dt>base</dt><dd><code>${d.base}</code> (scope ${d.scope})</dd>
    <dt>filter</dt><dd><code>${d.scopeFilterText}</code></dd>
    <dt>new entries</dt><dd><code>${d.dnTemplate}</code>, object classes <code>${d.objectClasses.join(' ')}</code></dd>
    <dt>id, version</dt><dd><code>${d.idAttribute}</code>, <code>${d.versionAttribute}</code></dd>
    <dt>delete</dt><dd>${d.deleteMode}</dd>
  </dl>
</section>
<section aria-labelledby="attributes">
  <h2 id="attributes">Attributes</h2>
  <div class="table-wrap"><table class="attribute-table">
    <thead><tr><th scope="col">SCIM attribute</th><th scope="col">LDAP attribute</th>
      <th scope="col">transform</th><th scope="col">flags</th><th scope="col">line</th></tr></thead>
    <tbody>${rt.rules.map(ruleRow)}</tbody>
  </table></div>
</section>
${previewForm(rt, {})}
${entryForm(rt, '')}
<details>
  <summary>File on disk: <code>${rt.file}</code></summary>
  <pre class="source">${text}</pre>
</details>`;
}

function ruleRow(rule: CompiledRule): Html {
  return html`<tr>
    <td><code>${rule.key}</code></td>
    <td><code>${rule.ldap}</code></td>
    <td>${rule.transform.name}</td>
    <td>${ruleFlags(rule).join(', ')}</td>
    <td>${rule.location.line}</td>
  </tr>`;
}

/** The rule's characteristics that differ from a plain read-write string, in words. */
export function ruleFlags(rule: CompiledRule): string[] {
  const leaf = rule.leafDefinition;
  const flags: string[] = [];
  if (leaf.required) flags.push('required');
  if (rule.readOnly || leaf.mutability !== 'readWrite')
    flags.push(rule.readOnly ? 'readOnly' : leaf.mutability);
  if (leaf.returned !== 'default') flags.push(`returned ${leaf.returned}`);
  if (leaf.uniqueness !== 'none') flags.push(`unique (${leaf.uniqueness})`);
  if (leaf.caseExact) flags.push('caseExact');
  if (rule.primary) flags.push('primary');
  if (rule.references) flags.push(`references ${rule.references.join(', ')}`);
  if (rule.reverse) flags.push(`reverse ${rule.reverse}`);
  if (rule.orderingRule) flags.push(`ordering ${rule.orderingRule}`);
  return flags;
}

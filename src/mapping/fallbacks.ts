/**
 * Values the bridge fills in that no client sent, kept from being read back (issue 14: IdPs that
 * read a value they never sent "correct" it on every sync). Two kinds, both recorded as tokens in
 * the mapping's `directory.fallbackMarker`, a multi-valued attribute the bridge owns:
 * - `<attribute>`: a `computed` attribute whose value came from its template because no rule set
 *   it (OpenLDAP's `cn`, `sn` required by `person`, from userName): the rules reading that
 *   attribute (name.formatted, name.familyName) leave it out;
 * - `primary:<attribute>`: a value mapped by a `primary: true` rule that the client did not mark
 *   primary: it is read back without `primary`.
 * The marker is what tells a fallback from a client's value that happens to be equal (Entra sends
 * name.formatted equal to displayName), which comparing with the template could not.
 * Without a marker (389-DS: no bridge schema loaded) a computed attribute's value is compared
 * with what its template gives from the other alternatives (`dropTemplateFallbacks`); equal is
 * taken for a fallback, so a client's value that happens to be equal (familyName = userName) is
 * not read back either: the marker is exact, the comparison only nearly so.
 */
import type { DirEntry, DirFilter } from '../ports/directory.ts';
import { type CompiledResourceType, type CompiledRule, rulePath } from './compiled.ts';

/** The marker's tokens on an entry, lower-cased; empty when the mapping keeps none. */
export function fallbacksOf(rt: CompiledResourceType, entry: DirEntry): ReadonlySet<string> {
  const marker = rt.directory.fallbackMarker;
  if (!marker) return EMPTY;
  const values = entry.attributes[marker.toLowerCase()];
  // Most entries carry no marker: no set to make.
  if (!values || values.length === 0) return EMPTY;
  return new Set(values.map((v) => (typeof v === 'string' ? v : v.toString('utf8')).toLowerCase()));
}

const EMPTY: ReadonlySet<string> = new Set();

export function primaryToken(rule: CompiledRule): string {
  return `primary:${rule.ldapKey}`;
}

/** Whether a rule's value on this entry is a fallback the client never sent. */
export function isFallback(rule: CompiledRule, fallbacks: ReadonlySet<string>): boolean {
  return fallbacks.size > 0 && !rule.references && fallbacks.has(rule.ldapKey);
}

/**
 * The tokens for a resource being written: the computed attributes its templates filled
 * (`filled`), and the primary rules whose selected value the client did not mark primary.
 */
export function fallbackTokens(
  rt: CompiledResourceType,
  filled: readonly string[],
  primaryUnsent: (rule: CompiledRule) => boolean,
): string[] {
  if (!rt.directory.fallbackMarker) return [];
  const tokens = [...filled];
  for (const rule of rt.rules) if (rule.primary && primaryUnsent(rule)) tokens.push(primaryToken(rule));
  return tokens;
}

/** A marker value test: `(marker=token)`. */
function marked(rt: CompiledResourceType, token: string): DirFilter | undefined {
  const marker = rt.directory.fallbackMarker;
  return marker ? { type: 'equal', attribute: marker, value: token } : undefined;
}

/**
 * A filter on a rule's attribute, restricted to values a client sent: a computed attribute's
 * fallback is unassigned for SCIM, so `name.familyName pr` must not match it.
 */
export function withoutFallback(rt: CompiledResourceType, rule: CompiledRule, filter: DirFilter): DirFilter {
  if (!rt.directory.computed.some((c) => c.ldapKey === rule.ldapKey)) return filter;
  const fallback = marked(rt, rule.ldapKey);
  if (!fallback) return filter;
  const unmarked: DirFilter = { type: 'not', filter: fallback };
  // Each test of the attribute becomes false where its value is a fallback, exactly as if the
  // attribute were absent; `not`, `and`, `or` around it then keep their meaning (`eq null`, `ne`).
  const map = (f: DirFilter): DirFilter => {
    switch (f.type) {
      case 'and':
      case 'or':
        return { type: f.type, filters: f.filters.map(map) };
      case 'not':
        return { type: 'not', filter: map(f.filter) };
      case 'true':
      case 'false':
        return f;
      default:
        return f.attribute.toLowerCase() === rule.ldapKey ? { type: 'and', filters: [f, unmarked] } : f;
    }
  };
  return map(filter);
}

/**
 * `primary` of the value a primary rule maps: a constant without a marker; with one, true exactly
 * where the marker does not say the client left it unset. `outcome(actual)` is the comparison's
 * result for a value that is primary (true) or not (undefined).
 */
export function primaryFilter(
  rt: CompiledResourceType,
  rule: CompiledRule | undefined,
  outcome: (actual: true | undefined) => boolean,
): DirFilter {
  const whenPrimary = outcome(true);
  const fallback = rule ? marked(rt, primaryToken(rule)) : undefined;
  if (!fallback || whenPrimary === outcome(undefined)) return { type: whenPrimary ? 'true' : 'false' };
  return whenPrimary ? { type: 'not', filter: fallback } : fallback;
}

/**
 * Without a marker: a value read through a rule from a computed attribute is dropped when it
 * equals the template evaluated without that rule's own path (sn = userName from
 * `{name.familyName|userName}`). `evaluate` evaluates a template on the resource being read.
 */
export function dropTemplateFallbacks(
  rt: CompiledResourceType,
  resource: Record<string, unknown>,
  evaluate: (template: string) => string | undefined,
): void {
  for (const computed of rt.directory.computed) {
    for (const rule of rt.rules) {
      if (rule.ldapKey !== computed.ldapKey || rule.references || rule.typeValue !== undefined) continue;
      const own = rulePath(rule).toLowerCase();
      let onlyOwn = false;
      const others = computed.template.replace(/\{([^}]+)\}/g, (_, inner: string) => {
        const kept = inner.split('|').filter((p) => p.trim().toLowerCase() !== own);
        onlyOwn ||= kept.length === 0;
        return `{${kept.join('|')}}`;
      });
      // A placeholder fed by the rule alone: no other value could have been the fallback.
      const fallback = onlyOwn ? undefined : evaluate(others);
      if (fallback !== undefined) dropValueIfEqual(resource, rule, fallback);
    }
  }
}

/** Removes a rule's single value from the resource when it equals `fallback`, and an emptied parent. */
function dropValueIfEqual(resource: Record<string, unknown>, rule: CompiledRule, fallback: string): void {
  const container = (rule.isCore ? resource : resource[rule.schema]) as Record<string, unknown> | undefined;
  if (!container) return;
  if (!rule.subAttribute) {
    if (container[rule.attribute] === fallback) delete container[rule.attribute];
    return;
  }
  const parent = container[rule.attribute];
  if (!parent || typeof parent !== 'object' || Array.isArray(parent)) return;
  const complex = parent as Record<string, unknown>;
  if (complex[rule.subAttribute] !== fallback) return;
  delete complex[rule.subAttribute];
  if (Object.keys(complex).length === 0) delete container[rule.attribute];
}

/**
 * OAuth scopes (RFC 6749 §3.3) of SCIM clients: `<resource>:read` and `<resource>:write` for each
 * resource type, named after its endpoint (`/Users` → `users`), plus `bulk` (the /Bulk endpoint;
 * each operation inside still needs its own scope) and `admin` (everything). Write implies read.
 * Also: which scopes an identity provider's assertion earns, from configured rules.
 */

export const BULK_SCOPE = 'bulk';
export const ADMIN_SCOPE = 'admin';
/** The endpoint whose requests need BULK_SCOPE (RFC 7644 §3.7). */
export const BULK_ENDPOINT = '/Bulk';

export type Access = 'read' | 'write';

/** The scope-name part of a resource type's endpoint: '/Users' → 'users'. */
export function scopeNameOf(endpoint: string): string {
  return endpoint.replace(/^\/+/, '').toLowerCase();
}

/** Every scope that exists for these resource type endpoints, in a stable order. */
export function knownScopes(resourceEndpoints: readonly string[]): string[] {
  const resources = resourceEndpoints.flatMap((e) => [`${scopeNameOf(e)}:read`, `${scopeNameOf(e)}:write`]);
  return [...resources, BULK_SCOPE, ADMIN_SCOPE];
}

export type ScopeParse = { ok: true; scopes: string[] } | { ok: false; errors: string[] };

/**
 * Parses a scope list: a space-separated string (RFC 6749 §3.3) or an array of scopes (from
 * configuration). Duplicates are dropped; every unknown scope is an error naming the known ones.
 */
export function parseScopes(
  input: string | readonly string[],
  resourceEndpoints: readonly string[],
): ScopeParse {
  const words = typeof input === 'string' ? input.split(' ').filter((w) => w !== '') : [...input];
  const known = knownScopes(resourceEndpoints);
  const errors = words
    .filter((word) => !known.includes(word))
    .map((word) => `unknown scope ${JSON.stringify(word)}; expected one of: ${known.join(' ')}`);
  if (typeof input === 'string' && /[^\x21\x23-\x5B\x5D-\x7E ]/.test(input)) {
    errors.unshift('a scope list holds only printable ASCII except " and \\, separated by single spaces');
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, scopes: [...new Set(words)] };
}

export interface ScopedRequest {
  /** The resource type's endpoint ('/Users'), or '/Bulk'. */
  readonly resourceType: string;
  /** The HTTP method. */
  readonly method: string;
  /** A POST to `.search` (RFC 7644 §3.4.3) reads, whatever its method. */
  readonly search?: boolean;
}

/** The scope a request needs: reads are GET/HEAD and searches; anything else writes. */
export function requiredScope(request: ScopedRequest): string {
  if (request.resourceType === BULK_ENDPOINT) return BULK_SCOPE;
  const method = request.method.toUpperCase();
  const access: Access = request.search || method === 'GET' || method === 'HEAD' ? 'read' : 'write';
  return `${scopeNameOf(request.resourceType)}:${access}`;
}

/** Whether the granted scopes include `scope`: `admin` includes every scope, `x:write` includes `x:read`. */
export function covers(granted: readonly string[], scope: string): boolean {
  if (granted.includes(ADMIN_SCOPE) || granted.includes(scope)) return true;
  return scope.endsWith(':read') && granted.includes(scope.replace(/:read$/, ':write'));
}

/** Whether the granted scopes allow the request. */
export function allows(granted: readonly string[], request: ScopedRequest): boolean {
  return covers(granted, requiredScope(request));
}

/**
 * A rule that grants scopes to an assertion: when its NameID (`nameId: true`) or any value of the
 * named attribute (e.g. `groups`, `roles`) equals `equals` exactly.
 */
export interface ScopeRule {
  readonly attribute?: string;
  readonly nameId?: boolean;
  readonly equals: string;
  readonly scopes: readonly string[];
}

export interface AssertedIdentity {
  readonly subject: string;
  readonly attributes: Readonly<Record<string, readonly string[]>>;
}

/** Problems of a rule list, each naming the rule's index (for the configuration's errors). */
export function checkScopeRules(rules: readonly ScopeRule[], resourceEndpoints: readonly string[]): string[] {
  return rules.flatMap((rule, i) => {
    const problems: string[] = [];
    if ((rule.attribute !== undefined) === (rule.nameId === true)) {
      problems.push(`rule ${i}: expected exactly one of "attribute" or "nameId: true"`);
    }
    const parsed = parseScopes(rule.scopes, resourceEndpoints);
    if (!parsed.ok) problems.push(...parsed.errors.map((e) => `rule ${i}: ${e}`));
    if (rule.scopes.length === 0) problems.push(`rule ${i}: expected at least one scope`);
    return problems;
  });
}

function valuesFor(identity: AssertedIdentity, rule: ScopeRule): readonly string[] {
  if (rule.nameId) return [identity.subject];
  const name = rule.attribute;
  // Own properties only: an attribute named like an Object.prototype member matches nothing.
  return name !== undefined && Object.hasOwn(identity.attributes, name) ? identity.attributes[name]! : [];
}

/** The union of the scopes of every matching rule, sorted; empty when none matches. */
export function scopesFor(identity: AssertedIdentity, rules: readonly ScopeRule[]): string[] {
  const granted = new Set<string>();
  for (const rule of rules) {
    if (valuesFor(identity, rule).includes(rule.equals)) for (const scope of rule.scopes) granted.add(scope);
  }
  return [...granted].sort();
}

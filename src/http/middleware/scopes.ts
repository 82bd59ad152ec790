/**
 * Scopes on every SCIM route, decided in this one place from the path and the method
 * (auth/scopes.ts has the rules): a resource type's endpoint needs `<type>:read` or `:write`,
 * /Bulk needs `bulk` (and each of its operations is checked again by `bulkOperationCheck`),
 * queries at the server root read every resource type, discovery needs only a valid token.
 * A refusal is 403 with a SCIM error and the RFC 6750 §3.1 challenge naming the missing scope.
 */
import type { Context, Next } from 'koa';
import { allows, BULK_ENDPOINT, covers, requiredScope, type ScopedRequest } from '../../auth/scopes.ts';
import type { Principal } from '../../auth/tokens.ts';
import { findResourceTypeByEndpoint, type MappingSet } from '../../mapping/compiled.ts';
import { ScimError } from '../../scim/errors.ts';

/** RFC 7644 §4: readable with any valid token. */
const DISCOVERY = new Set(['serviceproviderconfig', 'schemas', 'resourcetypes']);

export function insufficientScope(scope: string, what: string): ScimError {
  return new ScimError(403, `${what} needs the scope "${scope}", which this token does not have`, undefined, {
    'WWW-Authenticate': `Bearer realm="scim", error="insufficient_scope", scope="${scope}"`,
  });
}

/** The scopes a request under the SCIM base needs; [] when any valid token will do. */
export function scopesNeeded(segments: readonly string[], method: string, mappings: MappingSet): string[] {
  const [first = '', second] = segments;
  const search = second === '.search' && method === 'POST';
  if (first === '' || (first === '.search' && method === 'POST')) {
    // GET / and POST /.search list every resource type (RFC 7644 §3.4.2.1, §3.4.3).
    return mappings.resourceTypes.map((rt) => requiredScope({ resourceType: rt.endpoint, method: 'GET' }));
  }
  if (first.toLowerCase() === BULK_ENDPOINT.slice(1).toLowerCase())
    return [requiredScope({ resourceType: BULK_ENDPOINT, method })];
  if (DISCOVERY.has(first.toLowerCase())) return [];
  const rt = findResourceTypeByEndpoint(mappings, first);
  // Unknown paths fall through to the router's 404.
  return rt ? [requiredScope({ resourceType: rt.endpoint, method, search })] : [];
}

export function requireScopes(options: { basePath: string; mappings: () => MappingSet }) {
  const base = options.basePath.replace(/\/+$/, '').toLowerCase();
  return function checkScopes(ctx: Context, next: Next): Promise<void> {
    const principal = ctx.state.principal as Principal;
    const rest = ctx.path.slice(base.length).replace(/^\/+/, '');
    const segments = rest === '' ? [] : rest.split('/');
    for (const scope of scopesNeeded(segments, ctx.method, options.mappings())) {
      if (!covers(principal.scopes, scope)) throw insufficientScope(scope, `${ctx.method} ${ctx.path}`);
    }
    return next();
  };
}

/**
 * The check of one operation inside a /Bulk request (RFC 7644 §3.7), for services/bulk.ts: the
 * same rule as the single request it stands for. Throws the 403 that becomes its result.
 */
export function bulkOperationCheck(principal: Principal) {
  return (endpoint: string, method: string): void => {
    const request: ScopedRequest = { resourceType: endpoint, method };
    if (!allows(principal.scopes, request)) {
      throw insufficientScope(requiredScope(request), `${method} ${endpoint}`);
    }
  };
}

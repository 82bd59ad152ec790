/**
 * What the console's pages share: finding the resource type a path names, turning the use cases'
 * SCIM errors into the console's refusals, and a few small renderings.
 */
import {
  type CompiledResourceType,
  findResourceTypeByEndpoint,
  findResourceTypeByName,
  type MappingSet,
} from '../../mapping/compiled.ts';
import { ScimError } from '../../scim/errors.ts';
import type { RequestContext } from '../../services/resources/context.ts';
import { type Html, html } from '../html.ts';
import { AdminProblem, type AdminRequest } from '../page.ts';

/** The resource type a path segment names, by endpoint (`Users`) or name (`User`); 404 otherwise. */
export function resourceTypeOf(set: MappingSet, segment: string | undefined): CompiledResourceType {
  const found =
    segment === undefined
      ? undefined
      : (findResourceTypeByEndpoint(set, segment) ?? findResourceTypeByName(set, segment));
  if (!found) {
    throw new AdminProblem(
      404,
      `no resource type "${segment ?? ''}"; mapped: ${set.resourceTypes.map((rt) => rt.endpoint.slice(1)).join(', ')}`,
    );
  }
  return found;
}

/** The path segment that names a resource type in the console's URLs. */
export function typeSegment(rt: CompiledResourceType): string {
  return encodeURIComponent(rt.endpoint.slice(1));
}

/**
 * Runs a use case; a SCIM error becomes the console's refusal with the same status and detail
 * (a client mistake stays a 4xx with what and where, never a 500), prefixed with what was asked.
 */
export async function scimCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ScimError) {
      throw new AdminProblem(
        error.status,
        `${what}: ${error.detail}${error.scimType ? ` (${error.scimType})` : ''}`,
      );
    }
    throw error;
  }
}

/** The request context the use cases get for a console request: the admin is the actor. */
export function contextFor(request: AdminRequest, scimBaseUrl: string): RequestContext {
  return { baseUrl: scimBaseUrl, actor: `admin:${request.principal.subject}` };
}

/** A query parameter, trimmed; undefined when absent or empty. */
export function queryValue(request: AdminRequest, name: string): string | undefined {
  const value = request.query.get(name)?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** Text longer than the console takes for a field is refused, naming the field. */
export function bounded(value: string | undefined, field: string, max: number): string | undefined {
  if (value !== undefined && value.length > max)
    throw new AdminProblem(400, `${field}: ${value.length} characters; at most ${max}`);
  return value;
}

/** A time as ISO 8601 in a <time> element (UTC: instances behind a balancer agree on it). */
export function timeText(at: number | Date | undefined): Html {
  if (at === undefined) return html`<span class="muted">—</span>`;
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>`;
}

/** JSON as indented text, for a <pre>. */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/**
 * Reading one resource: the LDAP attributes a projection needs (RFC 7644 §3.9), and an entry
 * turned into the SCIM resource with its references resolved.
 */
import type { CompiledResourceType } from '../../mapping/compiled.ts';
import { entryId, entryToResource, type ReferenceValue, readsForward } from '../../mapping/convert.ts';
import type { DirEntry } from '../../ports/directory.ts';
import { applySubAttributeProjection, type Projection } from '../../scim/projection.ts';
import {
  guard,
  type RequestContext,
  type ResourceResult,
  requireById,
  type ServiceContext,
} from './context.ts';
import { readPlan } from './read-plan.ts';
import { readReferences } from './references.ts';

export interface GetRequest {
  resourceType: CompiledResourceType;
  id: string;
  projection: Projection;
  ctx: RequestContext;
}

export function getResource(svc: ServiceContext, request: GetRequest): Promise<ResourceResult> {
  const { resourceType: rt, id, projection, ctx } = request;
  return guard(rt, async () => {
    const entry = await requireById(svc, rt, id, readAttributes(rt, projection));
    return toResult(svc, rt, entry, { projection, ctx });
  });
}

/**
 * The LDAP attributes a read of `rt` asks for under a projection (RFC 7644 §3.9): the id, version
 * and timestamps, and every forward-read rule that will be returned.
 */
export function readAttributes(rt: CompiledResourceType, projection: Projection): string[] {
  return readPlan(rt, projection).ldapAttributes;
}

export interface ResultShape {
  projection: Projection;
  ctx: RequestContext;
  /** The caller sends no body (204): references, possibly a group's whole member list, are not read. */
  withoutReferences?: boolean;
}

/** An entry as the SCIM resource a response carries, with its Location and version. */
export async function toResult(
  svc: ServiceContext,
  rt: CompiledResourceType,
  entry: DirEntry,
  shape: ResultShape,
): Promise<ResourceResult> {
  const { projection, ctx } = shape;
  const plan = readPlan(rt, projection);
  const id = entryId(rt, entry) ?? '';
  const location = `${ctx.baseUrl}${rt.endpoint}/${encodeURIComponent(id)}`;
  const references = new Map<string, ReferenceValue[]>();
  for (const rule of shape.withoutReferences ? [] : plan.references) {
    // An entry without the attribute (a user in no group, without a manager) needs no lookup.
    if (readsForward(rule) && !entry.attributes[rule.ldapKey]?.length) {
      references.set(rule.key, []);
      continue;
    }
    references.set(rule.key, await readReferences(svc, rule, entry, ctx));
  }
  let resource = entryToResource(rt, entry, {
    location,
    references,
    rules: plan.rules,
    keepEmpty: (rule) => plan.named.has(rule.key),
  });
  if (plan.subAttributes)
    resource = applySubAttributeProjection(resource, plan.subAttributes, rt.coreSchema.id);
  const version = (resource.meta as { version?: string } | undefined)?.version;
  if (!plan.meta) delete resource.meta;
  return { resource, location, ...(version ? { version } : {}) };
}

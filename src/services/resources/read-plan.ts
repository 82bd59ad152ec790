/**
 * What a read answers under a projection (RFC 7644 §3.4.2.5, RFC 7643 §2.2), worked out once
 * per resource type and attributes/excludedAttributes pair instead of per entry and rule (issue
 * 17: CPU per read): the LDAP attributes to ask for, the rules to map, the references to resolve,
 * the multi-valued attributes named (answered even when empty) and whether meta is returned.
 */
import type { CompiledResourceType, CompiledRule } from '../../mapping/compiled.ts';
import { readAttributeNames } from '../../mapping/convert.ts';
import {
  isNamed,
  isReturned,
  type Projection,
  type SubAttributeProjection,
  subAttributeProjection,
} from '../../scim/projection.ts';

export interface ReadPlan {
  /** LDAP attributes to read: id, version, timestamps and every forward-read rule returned. */
  ldapAttributes: string[];
  /** The rules whose values are returned, in the mapping's order. */
  rules: readonly CompiledRule[];
  /** The reference rules returned (their DNs resolved to ids before mapping). */
  references: readonly CompiledRule[];
  /** Keys of the rules `attributes` names itself (RFC 7644 §3.9: given as [] when empty). */
  named: ReadonlySet<string>;
  /** meta is returned by default (RFC 7643 §3.1): an `attributes` list that does not name it leaves it out. */
  meta: boolean;
  /** `name.givenName`, excluded `emails.type`: applied after the attributes; absent when none named. */
  subAttributes: SubAttributeProjection | undefined;
}

/** Plans by projection, per compiled resource type (a mapping reload compiles new ones). */
const plans = new WeakMap<CompiledResourceType, Map<string, ReadPlan>>();
/** Projections come from clients: a bounded number is kept; beyond it they are worked out again. */
const MAX_PLANS_PER_TYPE = 64;
const UNPROJECTED = '';

/** A list page maps each entry under the same projection object: its plan, found without a key. */
const lastPlanOf = new WeakMap<Projection, { rt: CompiledResourceType; plan: ReadPlan }>();

export function readPlan(rt: CompiledResourceType, projection: Projection): ReadPlan {
  if (!projection.attributes && !projection.excludedAttributes) return planByKey(rt, UNPROJECTED, projection);
  const last = lastPlanOf.get(projection);
  if (last?.rt === rt) return last.plan;
  const key = JSON.stringify([projection.attributes ?? null, projection.excludedAttributes ?? null]);
  const plan = planByKey(rt, key, projection);
  lastPlanOf.set(projection, { rt, plan });
  return plan;
}

function planByKey(rt: CompiledResourceType, key: string, projection: Projection): ReadPlan {
  let byProjection = plans.get(rt);
  if (!byProjection) {
    byProjection = new Map();
    plans.set(rt, byProjection);
  }
  const known = byProjection.get(key);
  if (known) return known;
  const plan = planFor(rt, projection);
  if (byProjection.size >= MAX_PLANS_PER_TYPE) byProjection.clear();
  byProjection.set(key, plan);
  return plan;
}

function planFor(rt: CompiledResourceType, projection: Projection): ReadPlan {
  const core = rt.coreSchema.id;
  const wanted = (rule: CompiledRule) =>
    isReturned(projection, core, rule.schema, rule.attribute, rule.attributeDefinition.returned);
  return {
    ldapAttributes: readAttributeNames(rt, wanted),
    rules: rt.rules.filter((rule) => rule.leafDefinition.returned !== 'never' && wanted(rule)),
    references: rt.rules.filter((rule) => rule.references && wanted(rule)),
    named: new Set(
      rt.rules
        .filter((rule) => isNamed(projection, core, rule.schema, rule.attribute))
        .map((rule) => rule.key),
    ),
    meta: isReturned(projection, core, core, 'meta', 'default'),
    subAttributes: subAttributeProjection(projection, core),
  };
}

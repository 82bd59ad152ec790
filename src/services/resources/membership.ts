/**
 * Group membership (docs/architecture.md §Membership): the one place create, PUT and PATCH decide
 * member changes. Members are never read whole for a write: PATCH add/remove become value
 * add/delete of those members only, PUT and a PATCH replace compare with the current members read
 * through their back-links (memberOf), and the empty-group placeholder keeps groupOfNames valid.
 */

import { sameDn } from '../../lib/dn.ts';
import { withMissingObjectClasses } from '../../mapping/changes.ts';
import { type CompiledResourceType, type CompiledRule, membershipRule } from '../../mapping/compiled.ts';
import { type AttributeValues, allReadAttributes, valueText } from '../../mapping/convert.ts';
import type { DirChange, DirEntry, DirFilter } from '../../ports/directory.ts';
import { ScimError } from '../../scim/errors.ts';
import type { AttributePath, FilterNode } from '../../scim/filter-ast.ts';
import { type PatchOperation, property } from '../../scim/patch-request.ts';
import { unassigned } from '../../scim/patch-values.ts';
import { isPlainObject } from '../../scim/resource.ts';
import { GROUP_SCHEMA, sameUrn } from '../../scim/schema-defs.ts';
import { resourceTypesNamed, type ServiceContext, searchAll } from './context.ts';
import { eachBackLinked, idsToDns, lookupIds, referenceOf, unknownIds } from './references.ts';

/** The rule that holds group membership as a multi-valued reference (members.value). */
// The one definition lives with the compiled mapping (the change feed needs it too).

/** A new group: its member attribute also holds the placeholder (RFC 4519 §3.5, see keepPlaceholder). */
export function withInitialMembers(rt: CompiledResourceType, mapped: AttributeValues): void {
  const placeholder = rt.directory.emptyGroupPlaceholder;
  const memberRule = membershipRule(rt);
  if (!placeholder || !memberRule) return;
  const existing = mapped.get(memberRule.ldapKey);
  if (existing) existing.values.push(placeholder);
  else mapped.set(memberRule.ldapKey, { ldap: memberRule.ldap, values: [placeholder] });
}

export interface MemberDelta {
  /** Member ids to add. */
  add: string[];
  /** Member ids to remove. */
  remove: string[];
  /** Set when an operation replaces or clears the whole member list (then add/remove are folded in). */
  replaceAll?: string[];
  /** Every operation that is not a plain membership change, in order. */
  other: PatchOperation[];
}

/**
 * Pulls the operations on a Group's `members` out as id lists (RFC 7644 §3.5.2 examples: add
 * with values, remove with `members[value eq "id"]`, remove with a value list as Entra sends,
 * replace with a full list, remove of all members). Later operations win over earlier ones for
 * the same id; a full replace absorbs the add/remove lists that follow it. Filters other than
 * `value eq` (or `or`s of them) and paths below `members` stay in `other`.
 */
export function memberDelta(operations: readonly PatchOperation[]): MemberDelta {
  const delta = new DeltaBuilder();
  operations.forEach((operation, i) => {
    const context = `Operations[${i}]`;
    const path = operation.path;
    if (!path || !isMembers(path.path) || path.subAttribute !== undefined) {
      delta.other.push(operation);
      return;
    }
    if (path.valueFilter !== undefined) {
      const ids = operation.op === 'remove' ? idsInFilter(path.valueFilter) : undefined;
      if (ids) for (const id of ids) delta.removeId(id);
      else delta.other.push(operation);
      return;
    }
    if (operation.op === 'add') {
      for (const id of memberIds(operation.value, context)) delta.addId(id);
    } else if (operation.op === 'replace') {
      delta.replaceWith(memberIds(operation.value, context));
    } else if (unassigned(operation.value)) {
      // remove with no value: every member goes (§3.5.2.2, multi-valued without filter).
      delta.replaceWith([]);
    } else {
      for (const id of memberIds(operation.value, context)) delta.removeId(id);
    }
  });
  return delta.result();
}

class DeltaBuilder {
  readonly add: string[] = [];
  readonly remove: string[] = [];
  readonly other: PatchOperation[] = [];
  replaceAll: string[] | undefined;

  addId(id: string): void {
    if (this.replaceAll) {
      if (!this.replaceAll.includes(id)) this.replaceAll.push(id);
      return;
    }
    const r = this.remove.indexOf(id);
    if (r !== -1) this.remove.splice(r, 1);
    if (!this.add.includes(id)) this.add.push(id);
  }

  removeId(id: string): void {
    if (this.replaceAll) {
      this.replaceAll = this.replaceAll.filter((x) => x !== id);
      return;
    }
    const a = this.add.indexOf(id);
    if (a !== -1) this.add.splice(a, 1);
    if (!this.remove.includes(id)) this.remove.push(id);
  }

  replaceWith(ids: string[]): void {
    this.replaceAll = [...new Set(ids)];
    this.add.length = 0;
    this.remove.length = 0;
  }

  result(): MemberDelta {
    const delta: MemberDelta = { add: this.add, remove: this.remove, other: this.other };
    if (this.replaceAll) delta.replaceAll = this.replaceAll;
    return delta;
  }
}

function isMembers(path: AttributePath): boolean {
  return (
    path.attribute.toLowerCase() === 'members' &&
    path.subAttribute === undefined &&
    (path.schema === undefined || sameUrn(path.schema, GROUP_SCHEMA))
  );
}

function memberIds(value: unknown, context: string): string[] {
  if (unassigned(value)) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.map((item, i) => {
    const id = isPlainObject(item) ? property(item, 'value') : item;
    if (typeof id !== 'string' || id === '') {
      throw ScimError.invalidValue(`${context}: members[${i}].value must be a non-empty string`);
    }
    return id;
  });
}

/** `value eq "id"`, or an `or` of those: the ids; anything else: undefined. */
function idsInFilter(filter: FilterNode): string[] | undefined {
  if (filter.type === 'or') {
    const left = idsInFilter(filter.left);
    const right = idsInFilter(filter.right);
    return left && right ? [...left, ...right] : undefined;
  }
  if (
    filter.type === 'compare' &&
    filter.operator === 'eq' &&
    typeof filter.value === 'string' &&
    filter.path.attribute.toLowerCase() === 'value' &&
    filter.path.subAttribute === undefined &&
    filter.path.schema === undefined
  ) {
    return [filter.value];
  }
  return undefined;
}

/**
 * A PATCH's member operations split from the rest; 400 for member operations that would need
 * the whole member list (a filter other than on value, a path below members).
 */
export function splitMemberOperations(
  rule: CompiledRule | undefined,
  operations: PatchOperation[],
): MemberDelta {
  if (!rule) return { add: [], remove: [], other: operations };
  const delta = memberDelta(operations);
  const unsupported = delta.other.find(
    (op) => op.path?.path.attribute.toLowerCase() === rule.attribute.toLowerCase(),
  );
  if (unsupported) {
    throw ScimError.invalidFilter(
      `${rule.attribute}: only filters on value (members[value eq "id"]) can select members; use the member ids`,
    );
  }
  return delta;
}

/** The member changes of a PATCH: a full replace first, then the adds and removes. */
export async function memberPatchChanges(
  svc: ServiceContext,
  rt: CompiledResourceType,
  group: DirEntry,
  rule: CompiledRule,
  delta: MemberDelta,
): Promise<DirChange[]> {
  const changes: DirChange[] = [];
  if (delta.replaceAll) {
    const dns = await idsToDns(svc, rule, delta.replaceAll);
    changes.push(...(await memberReplaceChanges(svc, rt, group, rule, dns)));
  }
  if (delta.add.length > 0 || delta.remove.length > 0) {
    changes.push(...(await memberDeltaChanges(svc, rt, group, rule, delta)));
  }
  return changes;
}

/**
 * Member add/remove as value add/delete: cost independent of the group's size. Members already
 * present (or already absent) are skipped so retried PATCHes succeed, using the members' own
 * back-links (memberOf), not the group's member list.
 */
async function memberDeltaChanges(
  svc: ServiceContext,
  rt: CompiledResourceType,
  group: DirEntry,
  rule: CompiledRule,
  delta: { add: string[]; remove: string[] },
): Promise<DirChange[]> {
  const backLink = rule.reverse;
  const isMember = (entry: DirEntry): boolean | undefined => {
    if (!backLink) return undefined;
    return (entry.attributes[backLink.toLowerCase()] ?? []).some((v) => sameDn(valueText(v), group.dn));
  };
  const lookup = (ids: string[]) => lookupIds(svc, rule.references ?? [], ids, backLink ? [backLink] : []);
  const changes: DirChange[] = [];
  if (delta.add.length > 0) {
    const found = await lookup(delta.add);
    const missing = delta.add.filter((id) => !found.has(id.toLowerCase()));
    if (missing.length > 0) throw unknownIds('members', rule, missing);
    const dns = [...found.values()].filter((e) => isMember(e) !== true).map((e) => e.dn);
    refuseSelf(rt, group, dns);
    if (dns.length > 0) changes.push({ operation: 'add', attribute: rule.ldap, values: dns });
  }
  if (delta.remove.length > 0) {
    const found = await lookup(delta.remove);
    // Unknown ids on remove are not an error: the member is gone either way (idempotent retries).
    const dns = [...found.values()].filter((e) => isMember(e) !== false).map((e) => e.dn);
    if (dns.length > 0) changes.push({ operation: 'delete', attribute: rule.ldap, values: dns });
  }
  return keepPlaceholder(svc, rt, group, rule, changes);
}

/** A group never contains itself: a cycle of length one that no directory client expects. */
function refuseSelf(rt: CompiledResourceType, group: DirEntry, addedDns: string[]): void {
  if (addedDns.some((dn) => sameDn(dn, group.dn))) {
    throw ScimError.invalidValue(`members: a ${rt.name} cannot be a member of itself`);
  }
}

/** Full member list (PUT, PATCH replace) -> delta against the current members. */
export async function memberReplaceChanges(
  svc: ServiceContext,
  rt: CompiledResourceType,
  group: DirEntry,
  rule: CompiledRule,
  wantedDns: string[],
): Promise<DirChange[]> {
  const current = await currentMemberDns(svc, rt, group, rule);
  const wantedSet = new Set(wantedDns.map((d) => d.toLowerCase()));
  const currentSet = new Set(current.map((d) => d.toLowerCase()));
  const add = wantedDns.filter((d) => !currentSet.has(d.toLowerCase()));
  const remove = current.filter((d) => !wantedSet.has(d.toLowerCase()));
  refuseSelf(rt, group, add);
  const changes: DirChange[] = [];
  if (add.length > 0) changes.push({ operation: 'add', attribute: rule.ldap, values: add });
  if (remove.length > 0) changes.push({ operation: 'delete', attribute: rule.ldap, values: remove });
  return keepPlaceholder(svc, rt, group, rule, changes);
}

/** The group's members as DNs: from the members' back-links when mapped, else its own attribute. */
async function currentMemberDns(
  svc: ServiceContext,
  rt: CompiledResourceType,
  group: DirEntry,
  rule: CompiledRule,
): Promise<string[]> {
  if (!rule.reverse) {
    const placeholder = rt.directory.emptyGroupPlaceholder;
    return (group.attributes[rule.ldapKey] ?? [])
      .map(valueText)
      .filter((d) => !placeholder || !sameDn(d, placeholder));
  }
  const dns: string[] = [];
  for (const target of resourceTypesNamed(svc, rule.references ?? [])) {
    await eachBackLinked(svc, target, rule, group.dn, (entry) => {
      const ref = referenceOf(target, entry);
      if (ref) svc.references.set(entry.dn, ref);
      dns.push(entry.dn);
    });
  }
  return dns;
}

/**
 * groupOfNames needs one member (RFC 4519 §3.5): the mapping's placeholder DN stays in every
 * group as a hidden member, so removing the last real member is always valid. Groups created
 * outside the bridge get it added in the same modify when members are removed.
 */
export async function keepPlaceholder(
  svc: ServiceContext,
  rt: CompiledResourceType,
  group: DirEntry,
  rule: CompiledRule,
  changes: DirChange[],
): Promise<DirChange[]> {
  const placeholder = rt.directory.emptyGroupPlaceholder;
  if (!placeholder || !changes.some((c) => c.operation === 'delete')) return changes;
  const check = await svc.directory.search({
    base: group.dn,
    scope: 'base',
    filter: { type: 'equal', attribute: rule.ldap, value: placeholder },
    attributes: [],
  });
  if (check.entries.length > 0) return changes;
  return withMissingObjectClasses(rt, group, [
    { operation: 'add', attribute: rule.ldap, values: [placeholder] },
    ...changes,
  ]);
}

/**
 * Takes `dn` out of every group that lists it (deleteMode "disable"): for each group type whose
 * members may be of `memberType`, its groups holding the DN, each written by `write` in turn.
 */
export async function removeFromEveryGroup(
  svc: ServiceContext,
  memberType: CompiledResourceType,
  dn: string,
  write: (groupType: CompiledResourceType, group: DirEntry, changes: DirChange[]) => Promise<unknown>,
): Promise<void> {
  for (const groupType of svc.mappings().resourceTypes) {
    const rule = membershipRule(groupType);
    if (!rule || !(rule.references ?? []).includes(memberType.name)) continue;
    const filter: DirFilter = { type: 'equal', attribute: rule.ldap, value: dn };
    const groups = await searchAll(svc, groupType, filter, allReadAttributes(groupType));
    for (const group of groups.entries) {
      const removal: DirChange = { operation: 'delete', attribute: rule.ldap, values: [dn] };
      await write(groupType, group, await keepPlaceholder(svc, groupType, group, rule, [removal]));
    }
  }
}

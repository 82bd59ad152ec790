/**
 * A directory change (one accesslog record) as the events a SCIM write of the same change
 * produces (docs/architecture.md §Change feed): created / updated with the changed SCIM attribute
 * names / deactivated / deleted / member_added and member_removed, mapped through the mapping
 * files, with origin "directory". Event ids are derived from the record, so publishing a record
 * again (after a crash, or when the re-read window shows it twice) never delivers it twice.
 */
import { createHash } from 'node:crypto';
import { isUnder, parentDn, sameDn } from '../lib/dn.ts';
import {
  type CompiledResourceType,
  type CompiledRule,
  membershipRule,
  rulePathName,
} from '../mapping/compiled.ts';
import type { DirFilter } from '../ports/directory.ts';
import type { ChangeEvent, ChangeEventType } from '../ports/events.ts';
import { type LogModification, type LogRecord, reqStartIso } from './accesslog.ts';

export interface TranslateContext {
  resourceTypes: readonly CompiledResourceType[];
  /** Whether the entry now at `dn` matches a filter (asked of the directory when the record cannot tell). */
  entryMatches(dn: string, filter: DirFilter): Promise<boolean>;
  /** The SCIM id of the entry at a DN (a member), undefined when there is none. */
  idOfDn(dn: string): Promise<string | undefined>;
}

/** A stable UUID-shaped id per (record, event index). */
export function feedEventId(reqStart: string, index: number): string {
  const hex = createHash('sha256').update(`accesslog:${reqStart}#${index}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function withinScope(rt: CompiledResourceType, dn: string): boolean {
  const { base, scope } = rt.directory;
  if (sameDn(dn, base)) return false;
  return scope === 'one' ? sameDn(parentDn(dn), base) : isUnder(dn, base);
}

/**
 * A scope filter evaluated on object classes alone (the record names them, the directory may no
 * longer hold the entry): undefined when it tests anything else, and only the directory can tell.
 */
export function scopeMatches(filter: DirFilter, classes: readonly string[]): boolean | undefined {
  const held = new Set(classes.map((c) => c.toLowerCase()));
  const evaluate = (node: DirFilter): boolean | undefined => {
    switch (node.type) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'equal':
        return node.attribute.toLowerCase() === 'objectclass' && typeof node.value === 'string'
          ? held.has(node.value.toLowerCase())
          : undefined;
      case 'present':
        return node.attribute.toLowerCase() === 'objectclass' ? true : undefined;
      case 'not': {
        const inner = evaluate(node.filter);
        return inner === undefined ? undefined : !inner;
      }
      case 'and':
      case 'or': {
        const results = node.filters.map(evaluate);
        if (node.type === 'and' && results.includes(false)) return false;
        if (node.type === 'or' && results.includes(true)) return true;
        return results.includes(undefined) ? undefined : node.type === 'and';
      }
      default:
        return undefined;
    }
  };
  return evaluate(filter);
}

/** The object classes the record itself names (an add's values, a delete's old entry). */
function recordedObjectClasses(record: LogRecord): string[] | undefined {
  if (record.operation === 'add')
    return record.modifications.filter((m) => m.attribute === 'objectclass').flatMap((m) => m.values);
  return record.old.get('objectclass');
}

/** The resource type an entry belongs to: by its place in the tree, then by its object classes. */
export async function resourceTypeOf(
  record: LogRecord,
  context: TranslateContext,
): Promise<CompiledResourceType | undefined> {
  const dn = record.newDn ?? record.dn;
  // Every record names the entry's object classes (logoldattr objectClass; an add's own values).
  const classes = recordedObjectClasses(record);
  const candidates = context.resourceTypes.filter((rt) => withinScope(rt, dn));
  for (const rt of candidates) {
    const known = classes === undefined ? undefined : scopeMatches(rt.directory.scopeFilter, classes);
    if (known === true) return rt;
    if (known === undefined && candidates.length === 1) return rt;
    if (known === undefined && (await context.entryMatches(dn, rt.directory.scopeFilter))) return rt;
  }
  return undefined;
}

function setsInactive(rule: CompiledRule, modification: LogModification): boolean {
  if (rule.attribute !== 'active' || !rule.isCore || modification.operation === 'delete') return false;
  const value = modification.values[0];
  try {
    return value !== undefined && rule.transform.fromLdap(value) === false;
  } catch {
    // not a boolean the mapping understands: an update, not a deactivation
    return false;
  }
}

interface PendingChange {
  change: ChangeEventType;
  changedAttributes: string[];
  memberIds?: string[];
}

/** What a modify changed: attribute names, deactivation, member DNs added and removed. */
function modifyChanges(rt: CompiledResourceType, record: LogRecord) {
  const memberRule = membershipRule(rt);
  const names = new Set<string>();
  const added: string[] = [];
  const removed: string[] = [];
  let deactivated = false;
  for (const modification of record.modifications) {
    if (modification.attribute === 'objectclass') continue;
    if (memberRule && modification.attribute === memberRule.ldapKey) {
      const before = record.old.get(memberRule.ldapKey) ?? [];
      if (modification.operation === 'add') added.push(...modification.values);
      else if (modification.operation === 'delete')
        removed.push(...(modification.values.length > 0 ? modification.values : before));
      else {
        // replace: the difference between the old list (reqOld) and the new one
        added.push(...modification.values.filter((v) => !before.some((b) => sameDn(b, v))));
        removed.push(...before.filter((b) => !modification.values.some((v) => sameDn(b, v))));
      }
      continue;
    }
    for (const rule of rt.rules) {
      if (rule.ldapKey !== modification.attribute || rule.readOnly) continue;
      names.add(rulePathName(rule));
      deactivated ||= setsInactive(rule, modification);
    }
  }
  return { names, added, removed, deactivated };
}

async function memberIds(dns: readonly string[], context: TranslateContext): Promise<string[]> {
  const ids: string[] = [];
  for (const dn of dns) {
    const id = await context.idOfDn(dn);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

async function pendingChanges(
  rt: CompiledResourceType,
  record: LogRecord,
  context: TranslateContext,
): Promise<PendingChange[]> {
  switch (record.operation) {
    case 'add': {
      const names = new Set<string>();
      for (const m of record.modifications)
        for (const rule of rt.rules)
          if (rule.ldapKey === m.attribute && !rule.readOnly) names.add(rulePathName(rule));
      return [{ change: 'created', changedAttributes: [...names] }];
    }
    case 'delete':
      return [{ change: 'deleted', changedAttributes: [] }];
    case 'modrdn':
      return [{ change: 'updated', changedAttributes: [rt.directory.rdnPath] }];
    case 'modify': {
      const { names, added, removed, deactivated } = modifyChanges(rt, record);
      const changes: PendingChange[] = [];
      if (names.size > 0)
        changes.push({ change: deactivated ? 'deactivated' : 'updated', changedAttributes: [...names] });
      const addedIds = await memberIds(added, context);
      const removedIds = await memberIds(removed, context);
      if (addedIds.length > 0)
        changes.push({ change: 'member_added', changedAttributes: ['members'], memberIds: addedIds });
      if (removedIds.length > 0)
        changes.push({ change: 'member_removed', changedAttributes: ['members'], memberIds: removedIds });
      return changes;
    }
  }
}

/** The events of one record; none when it is not about a mapped resource or changes nothing mapped. */
export async function eventsOfRecord(record: LogRecord, context: TranslateContext): Promise<ChangeEvent[]> {
  if (record.entryUuid === undefined) return [];
  const rt = await resourceTypeOf(record, context);
  if (!rt) return [];
  const timestamp = reqStartIso(record.reqStart);
  const resourceId = record.entryUuid;
  return (await pendingChanges(rt, record, context)).map((pending, index) => ({
    eventId: feedEventId(record.eventKey ?? record.reqStart, index),
    type: `${rt.name.toLowerCase()}.${pending.change}`,
    change: pending.change,
    resourceType: rt.name,
    resourceId,
    changedAttributes: pending.changedAttributes,
    ...(pending.memberIds ? { memberIds: pending.memberIds } : {}),
    actor: record.authzId,
    origin: 'directory' as const,
    timestamp,
  }));
}

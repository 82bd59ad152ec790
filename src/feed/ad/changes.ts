/**
 * Active Directory changes as events (docs/architecture.md §Change feed). AD tells which entries
 * changed (their uSNChanged moved), not what changed: the entry as it stands is compared with what
 * the feed last saw of it — the per-attribute digests (what a service was told) name the changed
 * SCIM attributes, the member ids kept for a group give the membership delta, a hash of the DN
 * shows a rename (the objectGUID, the SCIM id, survives one). Pure.
 */
import { createHash } from 'node:crypto';
import { isUnder, normalizeDn, sameDn } from '../../lib/dn.ts';
import {
  type CompiledResourceType,
  type CompiledRule,
  membershipRule,
  rulePathName,
} from '../../mapping/compiled.ts';
import { valueText } from '../../mapping/convert.ts';
import { guidToString } from '../../mapping/transforms.ts';
import type { DirEntry } from '../../ports/directory.ts';
import type { ChangeEventType } from '../../ports/events.ts';
import { type AttributeDigests, changedNames } from '../digests.ts';
import { scopeMatches } from '../translate.ts';

/** What the feed last saw of an entry beyond its digests (hashes and ids, never values). */
export interface AdEntryState {
  /** Hash of the normalized DN (a change means a rename or a move). */
  dn: string;
  /** A group's member ids (objectGUIDs). */
  members?: string[];
}

export interface AdPendingChange {
  change: ChangeEventType;
  changedAttributes: string[];
  memberIds?: string[];
}

/** One changed entry as the feed read it. */
export interface AdChangedEntry {
  rt: CompiledResourceType;
  entry: DirEntry;
  /** Created inside the window read (uSNCreated past the previous position). */
  created: boolean;
  digests: AttributeDigests;
  /** A group's member ids now (read when its member list changed). */
  memberIds?: string[];
}

export function dnHash(dn: string): string {
  return createHash('sha256').update(normalizeDn(dn)).digest('base64url').slice(0, 12);
}

/** The digest name of a resource type's member list (`members`), as digests.ts names it. */
export function memberDigestName(rt: CompiledResourceType): string | undefined {
  const rule = membershipRule(rt);
  return rule ? rulePathName({ ...rule, subAttribute: undefined } as CompiledRule) : undefined;
}

/** Whether the entry's `active` attribute now reads false (a deactivation rather than an update). */
export function readsInactive(rt: CompiledResourceType, entry: DirEntry): boolean {
  const rule = rt.rules.find((r) => r.attribute === 'active' && r.isCore);
  const raw = rule ? entry.attributes[rule.ldapKey]?.[0] : undefined;
  if (!rule || raw === undefined) return false;
  try {
    return rule.transform.fromLdap(valueText(raw)) === false;
  } catch {
    // not a value the mapping understands: an update, not a deactivation
    return false;
  }
}

/**
 * The changes of one entry against what was seen before: created (new in the window), updated or
 * deactivated naming the attributes whose digests differ (all of them when no digest was kept),
 * member_added / member_removed from the kept member ids.
 */
export function entryChanges(
  changed: AdChangedEntry,
  before: { digests?: AttributeDigests; state?: AdEntryState },
): AdPendingChange[] {
  const { rt, entry, digests } = changed;
  // Created in the window and not seen before (a window may read an entry a second time).
  if (changed.created && !before.state)
    return [{ change: 'created', changedAttributes: Object.keys(digests).sort() }];
  const names = new Set(before.digests ? changedNames(before.digests, digests) : Object.keys(digests));
  if (before.state && before.state.dn !== dnHash(entry.dn)) names.add(rt.directory.rdnPath);
  const changes: AdPendingChange[] = [];
  const membersName = memberDigestName(rt);
  const delta =
    changed.memberIds && before.state?.members
      ? listDelta(before.state.members, changed.memberIds)
      : undefined;
  if (delta && membersName) names.delete(membersName);
  if (names.size > 0) {
    const inactive = names.has('active') && readsInactive(rt, entry);
    changes.push({ change: inactive ? 'deactivated' : 'updated', changedAttributes: [...names].sort() });
  }
  if (delta && delta.added.length > 0)
    changes.push({ change: 'member_added', changedAttributes: ['members'], memberIds: delta.added });
  if (delta && delta.removed.length > 0)
    changes.push({ change: 'member_removed', changedAttributes: ['members'], memberIds: delta.removed });
  return changes;
}

function listDelta(before: readonly string[], now: readonly string[]) {
  const old = new Set(before);
  const current = new Set(now);
  return {
    added: now.filter((id) => !old.has(id)),
    removed: before.filter((id) => !current.has(id)),
  };
}

/**
 * Member values read with the extended DN control (1.2.840.113556.1.4.529, MS-ADTS 3.1.1.3.4.1.5):
 * `<GUID=hex>;<SID=hex>;CN=...` -> the objectGUIDs as SCIM ids. A value without one is skipped.
 */
export function memberGuids(values: readonly string[]): string[] {
  const ids: string[] = [];
  for (const value of values) {
    const match = /^<GUID=([0-9a-fA-F]{32})>/.exec(value);
    if (match?.[1]) ids.push(guidToString(Buffer.from(match[1], 'hex')));
  }
  return ids;
}

/** A GUID string as AD's `<GUID=hex>` form wants it (the bytes as stored: guidToString reversed). */
export function guidToHex(guid: string): string | undefined {
  const match = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(guid);
  if (!match) return undefined;
  const swap = (hex: string) => (hex.match(/../g) ?? []).reverse().join('');
  const [, a = '', b = '', c = '', d = '', e = ''] = match;
  return `${swap(a)}${swap(b)}${swap(c)}${d}${e}`.toLowerCase();
}

/**
 * The resource type a deleted object (a tombstone under CN=Deleted Objects) belonged to: its
 * lastKnownParent inside the type's base, and its object classes not ruled out by the scope filter
 * (a tombstone keeps objectClass but not objectCategory, so a test of the latter cannot decide).
 */
export function tombstoneResourceType(
  resourceTypes: readonly CompiledResourceType[],
  lastKnownParent: string,
  objectClasses: readonly string[],
): CompiledResourceType | undefined {
  return resourceTypes.find((rt) => {
    const { base, scope } = rt.directory;
    const inside = sameDn(lastKnownParent, base) || (scope !== 'one' && isUnder(lastKnownParent, base));
    return inside && scopeMatches(rt.directory.scopeFilter, objectClasses) !== false;
  });
}

/**
 * A stable UUID-shaped event id per (DC, USN, entry, index, what the event says): publishing the
 * same again is a no-op. What it says is part of it because an entry read again at the same USN
 * may say something else (read past the window first, then its members dropped by a delete, which
 * does not move the group's USN): that must not be taken for the first event.
 */
export function adEventId(
  invocationId: string,
  usn: number,
  id: string,
  index: number,
  change: AdPendingChange,
): string {
  const says = `${change.change}:${change.changedAttributes.join(',')}:${(change.memberIds ?? []).join(',')}`;
  const hex = createHash('sha256').update(`ad:${invocationId}:${usn}:${id}#${index}:${says}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The position in one DC's USN sequence. USNs are per DC: another DC (another invocationId, which a
 * restore also changes) or a USN that went backwards means the position says nothing any more.
 */
export interface AdPosition {
  invocationId: string;
  usn: number;
}

/** Stored in the position hash's reqStart field, beside the accesslog's form (never confused with it). */
export function encodeAdPosition(position: AdPosition): string {
  return `usn:${position.invocationId}:${position.usn}`;
}

export function decodeAdPosition(text: string | undefined): AdPosition | undefined {
  const match = /^usn:([0-9a-f-]{36}):(\d{1,15})$/.exec(text ?? '');
  if (!match?.[1] || !match[2]) return undefined;
  return { invocationId: match[1], usn: Number(match[2]) };
}

/** What the position means now: follow on, or a gap (and why) that needs a full reconciliation. */
export function positionVerdict(
  stored: AdPosition | undefined,
  dc: AdPosition,
): 'follow' | 'first' | 'other-dc' | 'usn-backwards' {
  if (stored === undefined) return 'first';
  if (stored.invocationId !== dc.invocationId) return 'other-dc';
  return stored.usn > dc.usn ? 'usn-backwards' : 'follow';
}

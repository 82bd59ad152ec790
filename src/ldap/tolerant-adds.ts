/**
 * Adds that must be idempotent. The bridge adds values that "should be there" after a write: the
 * mapping's auxiliary object class on an entry created outside it (docs/architecture.md §Mappings),
 * a group's placeholder member, members already present by another request. LDAP refuses a modify
 * whose `add` names a value the entry already holds (RFC 4511 §4.6: attributeOrValueExists, 20),
 * and refuses the same value added twice in one modify. Two concurrent first writes both read the
 * entry without the class; the loser must not fail for a value the winner just added.
 */
import type { DirChange, DirEntry, DirValue } from '../ports/directory.ts';

/** Text of a value for comparison: object classes and DNs compare case-insensitively. */
function comparable(value: DirValue): string {
  return (typeof value === 'string' ? value : Buffer.from(value).toString('base64')).toLowerCase();
}

/**
 * One `add` per attribute, each value once: several steps of a use case may each ask for the same
 * missing object class (a PUT on a group: the replace and the placeholder member both do).
 */
export function mergeAdds(changes: readonly DirChange[]): DirChange[] {
  const merged: DirChange[] = [];
  const addsByAttribute = new Map<string, { change: DirChange; seen: Set<string> }>();
  for (const change of changes) {
    if (change.operation !== 'add') {
      merged.push(change);
      continue;
    }
    const key = change.attribute.toLowerCase();
    let target = addsByAttribute.get(key);
    if (!target) {
      target = { change: { operation: 'add', attribute: change.attribute, values: [] }, seen: new Set() };
      addsByAttribute.set(key, target);
      merged.push(target.change);
    }
    for (const value of change.values) {
      const text = comparable(value);
      if (target.seen.has(text)) continue;
      target.seen.add(text);
      target.change.values.push(value);
    }
  }
  return merged;
}

/** The attributes the `add`s of `changes` name: what to read back after result 20. */
export function addedAttributes(changes: readonly DirChange[]): string[] {
  return [...new Set(changes.filter((c) => c.operation === 'add').map((c) => c.attribute))];
}

/**
 * `changes` without the added values `entry` already holds; undefined when nothing was dropped
 * (the refusal was about something else, so a retry would fail the same way).
 */
export function withoutPresentValues(
  changes: readonly DirChange[],
  entry: DirEntry,
): DirChange[] | undefined {
  let dropped = false;
  const remaining: DirChange[] = [];
  for (const change of changes) {
    if (change.operation !== 'add') {
      remaining.push(change);
      continue;
    }
    const present = new Set((entry.attributes[change.attribute.toLowerCase()] ?? []).map(comparable));
    const values = change.values.filter((v) => !present.has(comparable(v)));
    if (values.length !== change.values.length) dropped = true;
    if (values.length > 0) remaining.push({ ...change, values });
  }
  return dropped ? remaining : undefined;
}

/**
 * Ranged attribute retrieval (Active Directory, MS-ADTS §3.1.1.3.1.3.3). AD returns at most
 * MaxValRange values (1500 by default) of a multi-valued attribute such as `member` per read, named
 * `member;range=0-1499`; the next values are asked for as `member;range=1500-*`, and the last
 * window comes back as `member;range=N-*`. Callers of the Directory port see all values under the
 * plain name.
 */
import type { Entry } from 'ldapts';
import type { DirEntry, DirValue } from '../ports/directory.ts';
import { UnavailableError } from '../ports/errors.ts';
import { clearPendingRanges, parseRangedName, pendingRangesOf } from './entries.ts';

/** Reads one entry (base search) asking for exactly `attribute` (e.g. `member;range=1500-*`). */
export type RangeReader = (dn: string, attribute: string) => Promise<Entry | undefined>;

/**
 * Bound on the follow-up reads for one attribute of one entry: 10,000 windows of AD's default
 * 1500 values is 15 million values, far past any real group; a server that never ends the range
 * fails here instead of looping forever.
 */
export const MAX_RANGE_ROUNDS = 10_000;

/** Completes, in place, every attribute of `entries` that came back ranged. */
export async function completeRanges(
  entries: readonly DirEntry[],
  read: RangeReader,
  binary: ReadonlySet<string>,
): Promise<void> {
  for (const entry of entries) {
    const pending = pendingRangesOf(entry);
    if (pending.length === 0) continue;
    for (const range of pending) await followRange(entry, range.attribute, range.next, read, binary);
    clearPendingRanges(entry);
  }
}

async function followRange(
  entry: DirEntry,
  attribute: string,
  first: number,
  read: RangeReader,
  binary: ReadonlySet<string>,
): Promise<void> {
  const key = attribute.toLowerCase();
  const context = `ranged read of ${attribute} of ${entry.dn}`;
  let next = first;
  for (let round = 0; round < MAX_RANGE_ROUNDS; round++) {
    const raw = await read(entry.dn, `${attribute};range=${next}-*`);
    if (!raw) throw new UnavailableError(`${context}: the entry disappeared while its values were read`);
    let window: { high: number | undefined; values: DirValue[] } | undefined;
    for (const [name, value] of Object.entries(raw)) {
      if (name === 'dn') continue;
      const ranged = parseRangedName(name);
      const plain = ranged ? undefined : name.toLowerCase() === key;
      if (!ranged && !plain) continue;
      if (ranged && ranged.attribute.toLowerCase() !== key) continue;
      if (ranged && ranged.low !== next) {
        throw new UnavailableError(`${context}: asked for values from ${next}, got ${name}`);
      }
      const values = (Array.isArray(value) ? value : [value]) as DirValue[];
      // A plain name answers with every value that is left (no range applied).
      window = { high: ranged ? ranged.high : undefined, values };
    }
    // No values from `next` on: the attribute shrank meanwhile (members removed); nothing is left.
    if (!window) return;
    const converted = binary.has(key)
      ? window.values.map((item) => (typeof item === 'string' ? Buffer.from(item, 'utf8') : item))
      : window.values;
    const existing = entry.attributes[key];
    if (existing) existing.push(...converted);
    else if (converted.length > 0) entry.attributes[key] = [...converted];
    if (window.high === undefined) return;
    if (window.high < next) throw new UnavailableError(`${context}: the range did not advance past ${next}`);
    next = window.high + 1;
  }
  throw new UnavailableError(`${context}: still incomplete after ${MAX_RANGE_ROUNDS} ranged reads`);
}

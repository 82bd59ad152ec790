/** ldapts entries -> DirEntry: lower-cased attribute names, every value in an array. */
import type { Entry } from 'ldapts';
import type { DirEntry, DirValue } from '../ports/directory.ts';

/**
 * Active Directory returns at most MaxValRange (default 1500) values of a multi-valued attribute
 * per read, under a ranged name (MS-ADTS §3.1.1.3.1.3.3): `member;range=0-1499`. The values go
 * under the plain name; the rest is still to be fetched from `next` (see ranges.ts).
 */
export interface PendingRange {
  /** The attribute's name as the server spelt it, without the range option. */
  attribute: string;
  /** First value index not yet read. */
  next: number;
}

const RANGED_NAME = /^(.+);range=(\d+)-(\d+|\*)$/i;

export interface RangedName {
  attribute: string;
  low: number;
  /** undefined for `*`: the last values. */
  high: number | undefined;
}

export function parseRangedName(name: string): RangedName | undefined {
  const match = RANGED_NAME.exec(name);
  if (!match) return undefined;
  const [, attribute = '', low = '0', high = '*'] = match;
  return {
    attribute,
    low: Number.parseInt(low, 10),
    high: high === '*' ? undefined : Number.parseInt(high, 10),
  };
}

/** Entries built from a ranged response, with the ranges still to read. */
const pendingRanges = new WeakMap<DirEntry, PendingRange[]>();

const NO_RANGES: readonly PendingRange[] = Object.freeze([]);

export function pendingRangesOf(entry: DirEntry): readonly PendingRange[] {
  return pendingRanges.get(entry) ?? NO_RANGES;
}

export function clearPendingRanges(entry: DirEntry): void {
  pendingRanges.delete(entry);
}

/**
 * ldapts returns one value as a scalar, several as an array, and a requested-but-absent attribute
 * as []. Absent attributes are left out of the DirEntry.
 *
 * `binary` (lower-cased names) get Buffers. ldapts matches its explicitBufferAttributes against the
 * server's spelling of the name (objectGUID), so a value may still arrive as a string; ldapts only
 * decodes valid UTF-8 (fatal TextDecoder), which re-encodes to the identical bytes.
 */
export function toDirEntry(raw: Entry, binary: ReadonlySet<string>): DirEntry {
  const attributes: Record<string, DirValue[]> = {};
  let pending: PendingRange[] | undefined;
  // for..in, not Object.entries: this runs for every entry read (measured: 3x cheaper).
  for (const returnedName in raw) {
    if (returnedName === 'dn') continue;
    const value = raw[returnedName] as DirValue | DirValue[];
    let name = returnedName;
    // Only AD's ranged names carry ";range=": skip the pattern for every other attribute (hot path).
    if (returnedName.includes(';')) {
      const ranged = parseRangedName(returnedName);
      if (ranged) {
        name = ranged.attribute;
        if (ranged.high !== undefined) {
          pending ??= [];
          pending.push({ attribute: name, next: ranged.high + 1 });
        }
      }
    }
    let values: DirValue[];
    if (Array.isArray(value)) {
      if (value.length === 0) continue;
      values = value.slice();
    } else {
      values = [value];
    }
    // LDAP descriptors are case-insensitive (RFC 4512 §1.4).
    const key = name.toLowerCase();
    if (binary.size > 0 && binary.has(key)) {
      for (let i = 0; i < values.length; i++) {
        const item = values[i];
        if (typeof item === 'string') values[i] = Buffer.from(item, 'utf8');
      }
    }
    const existing = attributes[key];
    if (existing) existing.push(...values);
    else attributes[key] = values;
  }
  const entry: DirEntry = { dn: raw.dn, attributes };
  if (pending) pendingRanges.set(entry, pending);
  return entry;
}

const EMPTY_SET: ReadonlySet<string> = new Set();
/** Callers pass the same (compiled, never mutated) name lists on every request: built once per list. */
const lowerCaseSets = new WeakMap<readonly string[], ReadonlySet<string>>();

export function lowerCaseSet(names: readonly string[] | undefined): ReadonlySet<string> {
  if (!names || names.length === 0) return EMPTY_SET;
  let set = lowerCaseSets.get(names);
  if (!set) {
    set = new Set(names.map((name) => name.toLowerCase()));
    lowerCaseSets.set(names, set);
  }
  return set;
}

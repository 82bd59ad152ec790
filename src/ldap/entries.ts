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

export function pendingRangesOf(entry: DirEntry): readonly PendingRange[] {
  return pendingRanges.get(entry) ?? [];
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
  const pending: PendingRange[] = [];
  for (const [returnedName, value] of Object.entries(raw)) {
    if (returnedName === 'dn') continue;
    // Only AD's ranged names carry ";range=": skip the pattern for every other attribute (hot path).
    const ranged = returnedName.includes(';') ? parseRangedName(returnedName) : undefined;
    const name = ranged?.attribute ?? returnedName;
    if (ranged?.high !== undefined) pending.push({ attribute: ranged.attribute, next: ranged.high + 1 });
    const values: DirValue[] = Array.isArray(value) ? value : [value];
    if (values.length === 0) continue;
    // LDAP descriptors are case-insensitive (RFC 4512 §1.4).
    const key = name.toLowerCase();
    const converted = binary.has(key)
      ? values.map((item) => (typeof item === 'string' ? Buffer.from(item, 'utf8') : item))
      : values;
    const existing = attributes[key];
    if (existing) existing.push(...converted);
    else attributes[key] = converted === value ? [...converted] : converted;
  }
  const entry: DirEntry = { dn: raw.dn, attributes };
  if (pending.length > 0) pendingRanges.set(entry, pending);
  return entry;
}

export function lowerCaseSet(names: readonly string[] | undefined): ReadonlySet<string> {
  return new Set((names ?? []).map((name) => name.toLowerCase()));
}

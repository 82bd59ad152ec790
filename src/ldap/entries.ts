/** ldapts entries -> DirEntry: lower-cased attribute names, every value in an array. */
import type { Entry } from 'ldapts';
import type { DirEntry, DirValue } from '../ports/directory.ts';

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
  for (const [name, value] of Object.entries(raw)) {
    if (name === 'dn') continue;
    const values: DirValue[] = Array.isArray(value) ? value : [value];
    if (values.length === 0) continue;
    // LDAP descriptors are case-insensitive (RFC 4512 §1.4).
    const key = name.toLowerCase();
    const converted = binary.has(key)
      ? values.map((item) => (typeof item === 'string' ? Buffer.from(item, 'utf8') : item))
      : values;
    const existing = attributes[key];
    if (existing) existing.push(...converted);
    else attributes[key] = [...converted];
  }
  return { dn: raw.dn, attributes };
}

export function lowerCaseSet(names: readonly string[] | undefined): ReadonlySet<string> {
  return new Set((names ?? []).map((name) => name.toLowerCase()));
}

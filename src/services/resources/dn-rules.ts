/**
 * The two DN decisions the use cases make. Kept apart so they can move onto src/lib/dn.ts
 * (RFC 4514 parsing) in one place.
 */
import { normalizeDn } from '../../mapping/convert.ts';

/** Whether a DN lies in the subtree of base (both as written by the directory or the mapping). */
export function isUnder(dn: string, base: string): boolean {
  const d = normalizeDn(dn);
  const b = normalizeDn(base);
  return d === b || d.endsWith(`,${b}`);
}

/** Whether the RDN's text differs; case-only changes count (a rename, though sameDn is equal). */
export function rdnValueChanged(oldDn: string, newDn: string): boolean {
  const rdnOld = oldDn.split(/(?<!\\),/)[0] ?? '';
  const rdnNew = newDn.split(/(?<!\\),/)[0] ?? '';
  return rdnOld !== rdnNew;
}

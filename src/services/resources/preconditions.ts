/**
 * If-Match (RFC 7644 §3.14): checked against the entry read for the write, and sent with the
 * write as an RFC 4528 assertion on the version attribute, so the check and the write are one.
 */
import type { CompiledResourceType } from '../../mapping/compiled.ts';
import { entryVersionText } from '../../mapping/convert.ts';
import type { DirEntry, DirFilter } from '../../ports/directory.ts';
import { ScimError } from '../../scim/errors.ts';
import { etagListNames, isAnyEtag } from '../../scim/etag.ts';
import type { Precondition } from './context.ts';

/** 412 when If-Match names versions and the entry's is not among them; `*` only asks that it exists. */
export function checkPrecondition(
  rt: CompiledResourceType,
  entry: DirEntry,
  precondition: Precondition,
): void {
  const wanted = precondition.ifMatch;
  if (wanted === undefined || isAnyEtag(wanted)) return;
  const current = entryVersionText(rt, entry);
  if (current === undefined || !etagListNames(wanted, current)) {
    throw ScimError.preconditionFailed(`${rt.name} has version W/"${current ?? ''}", not ${wanted}`);
  }
}

/** The write's assertion that the entry still has the version the precondition was checked on. */
export function assertionFor(
  rt: CompiledResourceType,
  entry: DirEntry,
  precondition: Precondition,
): { assertion?: DirFilter } {
  const wanted = precondition.ifMatch;
  if (wanted === undefined || isAnyEtag(wanted)) return {};
  const version = entryVersionText(rt, entry);
  if (version === undefined) return {};
  return { assertion: { type: 'equal', attribute: rt.directory.versionAttribute, value: version } };
}

/**
 * The entry's name (its RDN) against the directory's limit, before anything is written: a name too
 * long for the directory is the client's value (400 invalidValue naming the attribute), never an
 * outage (issue 15). The limit comes from the directory's capabilities (`maxRdnBytes`, documented
 * where it is set: ldap/root-dse.ts).
 */
import { splitFirstRdn } from '../../lib/dn.ts';
import type { CompiledResourceType } from '../../mapping/compiled.ts';
import { ScimError } from '../../scim/errors.ts';
import type { ServiceContext } from './context.ts';

export async function checkNameLength(
  svc: ServiceContext,
  rt: CompiledResourceType,
  dn: string,
): Promise<void> {
  const limit = (await svc.directory.capabilities()).maxRdnBytes;
  if (limit === undefined) return;
  const [rdn] = splitFirstRdn(dn);
  const bytes = Buffer.byteLength(rdn, 'utf8');
  if (bytes <= limit) return;
  // The value's share of the RDN: the limit less "attr=".
  const valueLimit = limit - Buffer.byteLength(`${rt.directory.rdnAttribute}=`, 'utf8');
  throw ScimError.invalidValue(
    `${rt.directory.rdnPath} is too long for the directory: it names the ${rt.name}, and the directory takes names of at most ${valueLimit} bytes (UTF-8, after escaping); this one has ${bytes - (limit - valueLimit)}`,
  );
}

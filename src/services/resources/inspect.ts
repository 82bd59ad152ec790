/**
 * The directory entry behind a resource, side by side with the SCIM resource it reads as: for the
 * admin console's resource page and the mapping page's "pick an entry". Found by SCIM id or by DN;
 * only reads. Secret attributes are never shown, not even hashed: their values become "(set)".
 */
import { isUnder, tryParseDn } from '../../lib/dn.ts';
import type { CompiledResourceType } from '../../mapping/compiled.ts';
import type { DirEntry } from '../../ports/directory.ts';
import { ScimError } from '../../scim/errors.ts';
import type { ScimObject } from '../../scim/resource.ts';
import { findById, guard, type RequestContext, type ServiceContext } from './context.ts';
import { readAttributes, toResult } from './read.ts';

export interface InspectRequest {
  resourceType: CompiledResourceType;
  /** A SCIM id, or the DN of an entry of the resource type. */
  ref: { id: string } | { dn: string };
  ctx: RequestContext;
}

export interface InspectedAttribute {
  /** As the directory returned it (lower-cased, DirEntry keys are). */
  name: string;
  /** Text as stored, bytes as base64; a secret's values are one "(set)". */
  values: string[];
  binary: boolean;
  secret: boolean;
}

export interface InspectedEntry {
  dn: string;
  attributes: InspectedAttribute[];
  /** The resource as a SCIM GET would return it. */
  resource: ScimObject;
}

/** Password and key attributes of the directories the bridge supports (lower case). */
const SECRET_ATTRIBUTES = new Set([
  'userpassword',
  'authpassword',
  'unicodepwd',
  'dbcspwd',
  'ntpwdhistory',
  'lmpwdhistory',
  'supplementalcredentials',
  'sambantpassword',
  'sambalmpassword',
  'pwdhistory',
  'krbprincipalkey',
  'userpkcs12',
]);

export const SECRET_PLACEHOLDER = '(set)';

/** Whether the values of an LDAP attribute are secret for this type: a known password attribute, or one a write-only or never-returned SCIM attribute is stored in. */
export function isSecretAttribute(rt: CompiledResourceType, ldapKey: string): boolean {
  const key = ldapKey.toLowerCase();
  if (SECRET_ATTRIBUTES.has(key)) return true;
  return rt.rules.some(
    (rule) =>
      rule.ldapKey === key &&
      (rule.leafDefinition.returned === 'never' || rule.leafDefinition.mutability === 'writeOnly'),
  );
}

export function inspectEntry(svc: ServiceContext, request: InspectRequest): Promise<InspectedEntry> {
  const { resourceType: rt, ref, ctx } = request;
  return guard(rt, async () => {
    // Every user attribute, and the operational ones the mapping reads (id, version, memberOf).
    const attributes = ['*', ...readAttributes(rt, {})];
    const entry =
      'dn' in ref ? await entryAt(svc, rt, ref.dn, attributes) : await findById(svc, rt, ref.id, attributes);
    if (!entry)
      throw ScimError.notFound(`${rt.name} ${'dn' in ref ? `at "${ref.dn}"` : `"${ref.id}"`} not found`);
    const { resource } = await toResult(svc, rt, entry, { projection: {}, ctx });
    return { dn: entry.dn, attributes: inspectedAttributes(rt, entry), resource };
  });
}

/** The entry at `dn` when it is one of `rt`'s (under its base); a DN that does not parse is a 400. */
async function entryAt(
  svc: ServiceContext,
  rt: CompiledResourceType,
  dn: string,
  attributes: string[],
): Promise<DirEntry | undefined> {
  if (!tryParseDn(dn)) throw ScimError.invalidValue(`"${dn}" is not a DN (RFC 4514)`);
  if (!isUnder(dn, rt.directory.base)) return undefined;
  // A base search with the type's scope filter: an entry under the base that is not one of the
  // type's (an ou, a user among groups) is not found rather than read as a resource.
  const result = await svc.directory.search({
    base: dn,
    scope: 'base',
    filter: rt.directory.scopeFilter,
    attributes,
    binaryAttributes: rt.directory.binaryAttributes,
  });
  return result.entries[0];
}

function inspectedAttributes(rt: CompiledResourceType, entry: DirEntry): InspectedAttribute[] {
  return Object.entries(entry.attributes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, values]) => {
      const secret = isSecretAttribute(rt, name);
      const binary = values.some((v) => typeof v !== 'string');
      return {
        name,
        values: secret
          ? [SECRET_PLACEHOLDER]
          : values.map((v) => (typeof v === 'string' ? v : v.toString('base64'))),
        binary: !secret && binary,
        secret,
      };
    });
}

/**
 * The services' unit-test bench: the real ResourceService over an in-memory RecordingDirectory
 * seeded with entries written out by hand, and a journal that records the intents it is given.
 */
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import {
  type CompiledResourceType,
  findResourceTypeByName,
  type MappingSet,
} from '../../../src/mapping/compiled.ts';
import { loadMappingDirectory } from '../../../src/mapping/load.ts';
import type { DirChange, DirEntry } from '../../../src/ports/directory.ts';
import type { ChangeIntent, ChangeJournal } from '../../../src/ports/events.ts';
import { ScimError } from '../../../src/scim/errors.ts';
import { RecordingDirectory } from '../../../src/services/recording-directory.ts';
import { ResourceService } from '../../../src/services/resources/service.ts';

export const OPENLDAP = loadMappingDirectory('mappings/openldap', STANDARD_SCHEMAS);
export const ctx = { baseUrl: 'http://localhost/scim/v2', actor: 'test' };
export const PLACEHOLDER = 'cn=empty-group-placeholder,dc=example,dc=com';
export const PEOPLE = 'ou=People,dc=example,dc=com';
export const GROUPS = 'ou=Groups,dc=example,dc=com';

export function typeOf(set: MappingSet, name: string): CompiledResourceType {
  const rt = findResourceTypeByName(set, name);
  if (!rt) throw new Error(`no ${name} in the mapping`);
  return rt;
}

export const ids = {
  alice: '11111111-1111-4111-8111-111111111111',
  bob: '22222222-2222-4222-8222-222222222222',
  admins: '33333333-3333-4333-8333-333333333333',
};

/** An OpenLDAP user as the directory holds it (attribute names as LDAP writes them). */
export function ldapUser(uid: string, id: string, extra: Record<string, string[]> = {}): DirEntry {
  return {
    dn: `uid=${uid},${PEOPLE}`,
    attributes: {
      objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'scimResource'],
      uid: [uid],
      cn: [uid],
      sn: [uid],
      scimActive: ['TRUE'],
      entryUUID: [id],
      entryCSN: [`csn-${uid}`],
      ...extra,
    },
  };
}

export function ldapGroup(cn: string, id: string, members: string[]): DirEntry {
  return {
    dn: `cn=${cn},${GROUPS}`,
    attributes: {
      objectClass: ['top', 'groupOfNames', 'scimResource'],
      cn: [cn],
      member: members,
      entryUUID: [id],
      entryCSN: [`csn-${cn}`],
    },
  };
}

const ous = [PEOPLE, GROUPS].map((dn) => ({ dn, attributes: { objectClass: ['organizationalUnit'] } }));

export interface Bench {
  directory: RecordingDirectory;
  service: ResourceService;
  intents: ChangeIntent[];
}

export function bench(
  entries: DirEntry[],
  options: { set?: MappingSet; journal?: boolean; ids?: [string, string] } = {},
): Bench {
  const [idAttribute, versionAttribute] = options.ids ?? ['entryUUID', 'entryCSN'];
  const directory = new RecordingDirectory({ entries: [...ous, ...entries], idAttribute, versionAttribute });
  const intents: ChangeIntent[] = [];
  const journal: ChangeJournal = {
    begin: async (intent) => {
      intents.push(intent);
      return { commit: async () => undefined, abort: async () => undefined };
    },
  };
  const set = options.set ?? OPENLDAP;
  const service = new ResourceService({
    directory,
    mappings: () => set,
    limits: { defaultPageSize: 100, maxPageSize: 1000, maxFilterLength: 10_000, maxMembersReturned: 1000 },
    referenceCacheTtlMs: 0,
    ...(options.journal ? { journal } : {}),
  });
  return { directory, service, intents };
}

/** The changes of every modify sent to `dn`, in order. */
export function modificationsOf(directory: RecordingDirectory, dn: string): DirChange[] {
  return directory
    .writes()
    .flatMap((op) => (op.kind === 'modify' && op.dn.toLowerCase() === dn.toLowerCase() ? op.changes : []));
}

/** The SCIM error a use case throws (the test fails if it succeeds). */
export async function scimErrorOf(work: Promise<unknown>): Promise<ScimError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof ScimError) return error;
    throw error;
  }
  throw new Error('expected a ScimError, the use case succeeded');
}

/** Shared set-up for the LDAP adapter tests: a real slapd, raw ldapts access for independent checks. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'ldapts';
import {
  createLdapDirectory,
  type DirectoryLogger,
  type LdapDirectoryOptions,
} from '../../../src/ldap/index.ts';
import {
  BASE_LDIF,
  missingLdapBinaries,
  type RunningSlapd,
  SAMPLE_LDIF,
  startSlapd,
} from '../../../src/localdev/slapd.ts';
import type { Directory } from '../../../src/ports/directory.ts';

export const SUFFIX = 'dc=example,dc=com';
export const PEOPLE = `ou=People,${SUFFIX}`;
export const GROUPS = `ou=Groups,${SUFFIX}`;
/** The five users of config/ldap/sample.ldif, as written there. */
export const SAMPLE_UIDS = ['alice', 'bob', 'carol', 'dave', 'erin'];

/** vitest's describe.skipIf argument: the suites need Debian's slapd. */
export const ldapBinariesMissing = missingLdapBinaries().length > 0;

export interface GeneratedUser {
  uid: string;
  sn: string;
}

/**
 * `count` users gen0000.. under ou=People. Surnames cycle through a few values so that sorting by
 * sn, then uid, is a real two-key sort.
 */
export function generatedUsers(count: number, prefix = 'gen'): GeneratedUser[] {
  const surnames = ['Young', 'Adams', 'Moreno', 'Baker', 'Nakamura', 'Zhou', 'Fischer'];
  return Array.from({ length: count }, (_, index) => ({
    uid: `${prefix}${String(index).padStart(4, '0')}`,
    sn: surnames[(index * 5) % surnames.length] as string,
  }));
}

export async function writeUsersLdif(
  users: GeneratedUser[],
): Promise<{ file: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ldap-test-ldif-'));
  const file = path.join(dir, 'users.ldif');
  const ldif = users
    .map(
      ({ uid, sn }) =>
        `dn: uid=${uid},${PEOPLE}\nobjectClass: inetOrgPerson\nobjectClass: scimResource\n` +
        `uid: ${uid}\ncn: ${uid} ${sn}\nsn: ${sn}\nscimActive: TRUE\n`,
    )
    .join('\n');
  await writeFile(file, ldif);
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function startSeededSlapd(extraLdif: string[] = []): Promise<RunningSlapd> {
  return startSlapd({ seedLdif: [BASE_LDIF, SAMPLE_LDIF, ...extraLdif] });
}

export function directoryFor(
  slapd: RunningSlapd,
  overrides: Partial<LdapDirectoryOptions> = {},
  logger?: DirectoryLogger,
): Directory {
  return createLdapDirectory(
    {
      url: slapd.url,
      bindDn: slapd.serviceDn,
      bindPassword: slapd.servicePassword,
      poolSize: 2,
      connectTimeoutMs: 1_000,
      operationTimeoutMs: 2_000,
      ...overrides,
    },
    logger,
  );
}

/** A plain ldapts client bound as the root DN: checks that do not go through the code under test. */
export async function rootClient(slapd: RunningSlapd): Promise<Client> {
  const client = new Client({ url: slapd.url, timeout: 5_000, connectTimeout: 1_000 });
  await client.bind(slapd.rootDn, slapd.rootPassword);
  return client;
}

/** Values of one attribute of one entry, read with a raw root client. */
export async function rawValues(slapd: RunningSlapd, dn: string, attribute: string): Promise<string[]> {
  const client = await rootClient(slapd);
  try {
    const { searchEntries } = await client.search(dn, { scope: 'base', attributes: [attribute] });
    const value = searchEntries[0]?.[attribute];
    if (value === undefined) return [];
    return (Array.isArray(value) ? value : [value]).map(String);
  } finally {
    await client.unbind();
  }
}

/** First value of a DirEntry attribute as text (DirEntry keys are lower-case). */
export function text(
  entry: { attributes: Record<string, Array<string | Buffer>> } | undefined,
  attribute: string,
) {
  const value = entry?.attributes[attribute.toLowerCase()]?.[0];
  return value === undefined ? undefined : String(value);
}

/** The LDAP adapter: an ldapts implementation of the Directory port. */
import type { Directory } from '../ports/directory.ts';
import { LdapDirectory } from './ldap-directory.ts';
import type { DirectoryLogger, LdapDirectoryOptions } from './options.ts';

export type { DirectoryLogger, LdapDirectoryOptions } from './options.ts';

export function createLdapDirectory(options: LdapDirectoryOptions, logger?: DirectoryLogger): Directory {
  return new LdapDirectory(options, logger);
}

/** The LDAP adapter: an ldapts implementation of the Directory port. */
import type { Directory } from '../ports/directory.ts';
import { LdapDirectory } from './ldap-directory.ts';
import type { DirectoryLogger, LdapDirectoryOptions } from './options.ts';

export type { DirectoryLogger, LdapDirectoryOptions } from './options.ts';

/** A Directory that also reports its pool use (for the metrics). */
export type MeasuredDirectory = Directory & Pick<LdapDirectory, 'usage'>;

export function createLdapDirectory(
  options: LdapDirectoryOptions,
  logger?: DirectoryLogger,
): MeasuredDirectory {
  return new LdapDirectory(options, logger);
}

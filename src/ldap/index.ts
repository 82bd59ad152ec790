/** The LDAP adapter: an ldapts implementation of the Directory port. */
import type { Directory } from '../ports/directory.ts';
import { LdapDirectory } from './ldap-directory.ts';
import type { DirectoryLogger, LdapDirectoryOptions } from './options.ts';

export type { DirectoryLogger, LdapDirectoryOptions } from './options.ts';
export type { ServerStatus } from './server-health.ts';

/** A Directory that also reports its pool use (for the metrics). */
export type MeasuredDirectory = Directory & Pick<LdapDirectory, 'usage' | 'servers' | 'writableUrl'>;

export function createLdapDirectory(
  options: LdapDirectoryOptions,
  logger?: DirectoryLogger,
): MeasuredDirectory {
  return new LdapDirectory(options, logger);
}

/**
 * The directory servers the configuration names: `ldap.urls`, else `ldap.url` as one writable
 * server, else none (the local default starts a throwaway slapd). One place for the start-up
 * steps, the change feed and the CLI (docs/architecture.md §Directory failover).
 */
import type { LdapConfig, LdapServerConfig } from './schema.ts';

export function configuredLdapServers(ldap: LdapConfig): LdapServerConfig[] {
  if (ldap.urls && ldap.urls.length > 0) return [...ldap.urls];
  return ldap.url ? [{ url: ldap.url, role: 'readWrite' }] : [];
}

/** The preferred writable server (the first readWrite one listed), undefined without configured servers. */
export function preferredWritableUrl(ldap: LdapConfig): string | undefined {
  return configuredLdapServers(ldap).find((server) => server.role === 'readWrite')?.url;
}

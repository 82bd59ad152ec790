/** Settings of the LDAP adapter; src/config validates and documents them. */
export interface LdapDirectoryOptions {
  /** ldap://host:port or ldaps://host:port. */
  url: string;
  /**
   * Several servers, preferred in this order (docs/architecture.md §Directory failover); when
   * given, `url` is not used. Absent: `url` alone, as a readWrite server.
   */
  servers?: Array<{ url: string; role: 'readWrite' | 'readOnly' }>;
  /** A down server is probed after this long, then doubling up to probeMaxMs. Default 250 ms / 5 s. */
  probeInitialMs?: number;
  probeMaxMs?: number;
  /** Service account; anonymous when absent. */
  bindDn?: string;
  bindPassword?: string;
  /** Upgrade ldap:// connections with StartTLS (RFC 4511 §4.14) before binding. */
  startTls?: boolean;
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean; serverName?: string };
  /** Connections kept open; operations are multiplexed over them (RFC 4511 §4.1.1 message IDs). */
  poolSize: number;
  /** Paged searches kept open for cursor pages (each on a connection of its own); default 8. */
  cursorSessions?: number;
  /** An unused cursor session is closed after this long; default 60 s. */
  cursorIdleMs?: number;
  /** How long a VLV sorted list the server keeps is reused for later pages of the same query; 0 = never. Default 10 s. */
  sortedListReuseMs?: number;
  /**
   * Server-side sorts one connection may hold (OpenLDAP: sssvlv-maxperconn); more wait, and a
   * connection that has started this many VLV sorts is retired. Default 5, OpenLDAP's default.
   */
  sortedPagesPerConnection?: number;
  connectTimeoutMs: number;
  /** Per request on the wire; a timed-out connection is dropped and re-opened on next use. */
  operationTimeoutMs: number;
  /**
   * Told of every attempt of an operation: its kind (search, sorted_search, write), its result
   * (success, an LDAP result code, transport_failure, deadline, error) and its seconds (metrics).
   */
  observe?: (operation: string, result: string, seconds: number) => void;
}

/** The subset of a pino logger the adapter uses. */
export interface DirectoryLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export const silentLogger: DirectoryLogger = {
  warn() {},
  info() {},
};

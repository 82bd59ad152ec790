/**
 * The feed's own LDAP connection (one, bound as the bridge's service account): the accesslog
 * records, the few lookups a record needs (a member's id, an entry's object classes), and paged
 * walks of a resource type's entries for reconciliation. Its own connection so a long walk or a
 * busy feed never takes a connection from the request pool.
 */
import {
  AndFilter,
  Client,
  EqualityFilter,
  GreaterThanEqualsFilter,
  InvalidDNSyntaxError,
  NoSuchObjectError,
} from 'ldapts';
import { lowerCaseSet, toDirEntry } from '../ldap/entries.ts';
import { toLdapFilter } from '../ldap/filters.ts';
import { completeRanges } from '../ldap/ranges.ts';
import type { CompiledResourceType } from '../mapping/compiled.ts';
import type { DirEntry, DirFilter } from '../ports/directory.ts';
import type { RawLogEntry } from './accesslog.ts';

export interface FeedConnection {
  url: string;
  bindDn: string;
  bindPassword: string;
  timeoutMs?: number;
  /** For ldaps:// (Active Directory refuses simple binds over plain ldap://). */
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean; serverName?: string };
}

/** A bound client for the feed's own connection. */
export async function openFeedClient(connection: FeedConnection): Promise<Client> {
  const timeout = connection.timeoutMs ?? 10_000;
  const { tls } = connection;
  const client = new Client({
    url: connection.url,
    timeout,
    connectTimeout: timeout,
    ...(tls && connection.url.startsWith('ldaps:')
      ? {
          tlsOptions: {
            ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
            ...(tls.serverName ? { servername: tls.serverName } : {}),
            rejectUnauthorized: tls.rejectUnauthorized ?? true,
          },
        }
      : {}),
  });
  await client.bind(connection.bindDn, connection.bindPassword);
  return client;
}

/** The accesslog attributes a record needs. */
const LOG_ATTRIBUTES = [
  'reqStart',
  'reqType',
  'reqDN',
  'reqAuthzID',
  'reqMod',
  'reqOld',
  'reqNewDN',
  'reqEntryUUID',
];
const PAGE_SIZE = 500;
/** DN -> id lookups remembered (members named again and again); oldest forgotten first. */
const ID_CACHE_SIZE = 10_000;

export class FeedReader {
  readonly #connection: FeedConnection;
  readonly #logBase: string;
  #client: Client | undefined;
  readonly #ids = new Map<string, string>();
  /** The attribute that holds a member's SCIM id (entryUUID; 389-DS: nsUniqueId). */
  readonly #idAttribute: string;

  constructor(connection: FeedConnection, logBase: string, idAttribute = 'entryUUID') {
    this.#connection = connection;
    this.#logBase = logBase;
    this.#idAttribute = idAttribute;
  }

  /** The bound connection (opened on first use, again after a reset). */
  protected async bound(): Promise<Client> {
    if (this.#client?.isConnected) return this.#client;
    this.#client = await openFeedClient(this.#connection);
    return this.#client;
  }

  /** Forgets the connection after a failure (the next call connects again). */
  async reset(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.unbind().catch(() => undefined);
  }

  /** Successful write records with reqStart >= since, oldest first, at most `limit`. */
  async records(since: string, limit: number): Promise<RawLogEntry[]> {
    const client = await this.bound();
    const filter = new AndFilter({
      filters: [
        new EqualityFilter({ attribute: 'objectClass', value: 'auditWriteObject' }),
        new EqualityFilter({ attribute: 'reqResult', value: '0' }),
        new GreaterThanEqualsFilter({ attribute: 'reqStart', value: since }),
      ],
    });
    const found: RawLogEntry[] = [];
    const pages = client.searchPaginated(this.#logBase, {
      scope: 'one',
      filter,
      attributes: LOG_ATTRIBUTES,
      paged: { pageSize: Math.min(PAGE_SIZE, limit) },
    });
    for await (const page of pages) {
      found.push(...(page.searchEntries as RawLogEntry[]));
      if (found.length >= limit) break;
    }
    // reqStart is fixed-width generalized time: text order is time order.
    found.sort((a, b) => String(a.reqStart).localeCompare(String(b.reqStart)));
    return found.slice(0, limit);
  }

  /** Whether the log still holds the record at reqStart (false: purged, or the log was replaced). */
  async holds(reqStart: string): Promise<boolean> {
    const client = await this.bound();
    try {
      const { searchEntries } = await client.search(`reqStart=${reqStart},${this.#logBase}`, {
        scope: 'base',
        attributes: ['reqStart'],
      });
      return searchEntries.length === 1;
    } catch (error) {
      if (error instanceof NoSuchObjectError || error instanceof InvalidDNSyntaxError) return false;
      throw error;
    }
  }

  /** One entry by DN (undefined when it does not exist). */
  async entry(dn: string, attributes: string[]): Promise<DirEntry | undefined> {
    const client = await this.bound();
    try {
      const { searchEntries } = await client.search(dn, { scope: 'base', attributes });
      const raw = searchEntries[0];
      return raw ? toDirEntry(raw, lowerCaseSet(undefined)) : undefined;
    } catch (error) {
      if (error instanceof NoSuchObjectError || error instanceof InvalidDNSyntaxError) return undefined;
      throw error;
    }
  }

  /** Whether the entry at `dn` exists and matches the filter (a resource type's scope filter). */
  async matches(dn: string, filter: DirFilter): Promise<boolean> {
    const client = await this.bound();
    try {
      const { searchEntries } = await client.search(dn, {
        scope: 'base',
        filter: toLdapFilter(filter),
        attributes: ['1.1'],
      });
      return searchEntries.length === 1;
    } catch (error) {
      if (error instanceof NoSuchObjectError || error instanceof InvalidDNSyntaxError) return false;
      throw error;
    }
  }

  /** The id (entryUUID, nsUniqueId) of the entry at a DN, remembered. */
  async idOfDn(dn: string): Promise<string | undefined> {
    const key = dn.toLowerCase();
    const known = this.#ids.get(key);
    if (known !== undefined) return known;
    const found = (await this.entry(dn, [this.#idAttribute]))?.attributes[
      this.#idAttribute.toLowerCase()
    ]?.[0];
    if (typeof found !== 'string') return undefined;
    this.remember(dn, found.toLowerCase());
    return found.toLowerCase();
  }

  /** Records a DN's id (an entry the feed saw added or deleted), evicting the oldest beyond the cap. */
  remember(dn: string, id: string): void {
    this.#ids.delete(dn.toLowerCase());
    this.#ids.set(dn.toLowerCase(), id);
    if (this.#ids.size > ID_CACHE_SIZE) {
      const oldest = this.#ids.keys().next().value;
      if (oldest !== undefined) this.#ids.delete(oldest);
    }
  }

  /** Forgets a DN (renamed or deleted). */
  forget(dn: string): void {
    this.#ids.delete(dn.toLowerCase());
  }

  /**
   * Every entry of a resource type, page by page (RFC 2696 paged results): `onPage` runs before
   * the next page is asked for, so at most one page is in memory.
   */
  async eachPage(
    rt: CompiledResourceType,
    attributes: string[],
    onPage: (entries: DirEntry[]) => Promise<void>,
  ): Promise<void> {
    const client = await this.bound();
    const binary = lowerCaseSet(rt.directory.binaryAttributes);
    const pages = client.searchPaginated(rt.directory.base, {
      scope: rt.directory.scope,
      filter: toLdapFilter(rt.directory.scopeFilter),
      attributes,
      paged: { pageSize: PAGE_SIZE },
      ...(rt.directory.binaryAttributes.length > 0
        ? { explicitBufferAttributes: rt.directory.binaryAttributes }
        : {}),
    });
    for await (const page of pages) {
      const entries = page.searchEntries.map((raw) => toDirEntry(raw, binary));
      // Active Directory returns a big group's members in windows (member;range=0-1499).
      await completeRanges(entries, (dn, attribute) => this.#readBase(client, dn, attribute), binary);
      await onPage(entries);
    }
  }

  async #readBase(client: Client, dn: string, attribute: string) {
    const { searchEntries } = await client.search(dn, { scope: 'base', attributes: [attribute] });
    return searchEntries[0];
  }

  async close(): Promise<void> {
    await this.reset();
  }
}

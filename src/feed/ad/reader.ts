/**
 * The Active Directory feed's reads (docs/architecture.md §Change feed), on its own connection:
 * the DC's identity and highest committed USN (rootDSE), the entries of a resource type whose
 * uSNChanged lies in a window, the tombstones of that window (Show Deleted control), and a group's
 * member ids (extended DN control).
 */
import {
  AndFilter,
  type Client,
  Control,
  EqualityFilter,
  GreaterThanEqualsFilter,
  LessThanEqualsFilter,
  NoSuchObjectError,
} from 'ldapts';
import { lowerCaseSet, toDirEntry } from '../../ldap/entries.ts';
import { toLdapFilter } from '../../ldap/filters.ts';
import { completeRanges } from '../../ldap/ranges.ts';
import type { CompiledResourceType } from '../../mapping/compiled.ts';
import { guidToString } from '../../mapping/transforms.ts';
import type { DirEntry } from '../../ports/directory.ts';
import { type FeedConnection, openFeedClient } from '../reader.ts';
import { type AdPosition, guidToHex, memberGuids } from './changes.ts';

/** LDAP_SERVER_SHOW_DELETED_OID (MS-ADTS 3.1.1.3.4.1.14): tombstones are returned too. */
const SHOW_DELETED = '1.2.840.113556.1.4.417';
/** LDAP_SERVER_EXTENDED_DN_OID (MS-ADTS 3.1.1.3.4.1.5): DN values carry <GUID=...>. */
const EXTENDED_DN = '1.2.840.113556.1.4.529';
const PAGE_SIZE = 500;
/** What every changed entry is read with, beside its digest attributes. */
export const CHANGE_ATTRIBUTES = ['uSNChanged', 'uSNCreated', 'whenChanged'];

export interface DcState extends AdPosition {
  /** The domain's naming context (where CN=Deleted Objects is). */
  namingContext: string;
}

export interface Tombstone {
  id: string;
  usn: number;
  lastKnownParent: string;
  objectClasses: string[];
  whenChanged?: string;
}

function text(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}

function usnWindow(from: number, to?: number) {
  return [
    new GreaterThanEqualsFilter({ attribute: 'uSNChanged', value: String(from) }),
    ...(to === undefined ? [] : [new LessThanEqualsFilter({ attribute: 'uSNChanged', value: String(to) })]),
  ];
}

export class AdReader {
  readonly #connection: FeedConnection;
  #client: Client | undefined;

  constructor(connection: FeedConnection) {
    this.#connection = connection;
  }

  async #bound(): Promise<Client> {
    if (this.#client?.isConnected) return this.#client;
    this.#client = await openFeedClient(this.#connection);
    return this.#client;
  }

  async reset(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.unbind().catch(() => undefined);
  }

  /** The DC answering (its invocationId, which a restore changes too) and its highest committed USN. */
  async dcState(): Promise<DcState> {
    const client = await this.#bound();
    const { searchEntries } = await client.search('', {
      scope: 'base',
      attributes: ['dsServiceName', 'highestCommittedUSN', 'defaultNamingContext'],
    });
    const root = searchEntries[0] ?? { dn: '' };
    const service = text(root.dsServiceName);
    const usn = Number(text(root.highestCommittedUSN));
    const namingContext = text(root.defaultNamingContext);
    if (!service || !Number.isSafeInteger(usn) || !namingContext)
      throw new Error('the rootDSE has no dsServiceName/highestCommittedUSN: not an Active Directory DC');
    const settings = await client.search(service, {
      scope: 'base',
      attributes: ['invocationId'],
      explicitBufferAttributes: ['invocationId'],
    });
    const invocation = settings.searchEntries[0]?.invocationId;
    const bytes = Array.isArray(invocation) ? invocation[0] : invocation;
    if (!Buffer.isBuffer(bytes) || bytes.length !== 16)
      throw new Error(`${service} has no invocationId the bind account can read`);
    return { invocationId: guidToString(bytes), usn, namingContext };
  }

  /** Entries of a resource type with from <= uSNChanged (<= to, when given), page by page. */
  async changedEntries(
    rt: CompiledResourceType,
    attributes: readonly string[],
    from: number,
    to?: number,
  ): Promise<DirEntry[]> {
    const client = await this.#bound();
    const binary = lowerCaseSet(rt.directory.binaryAttributes);
    const found: DirEntry[] = [];
    const pages = client.searchPaginated(rt.directory.base, {
      scope: rt.directory.scope,
      filter: new AndFilter({ filters: [toLdapFilter(rt.directory.scopeFilter), ...usnWindow(from, to)] }),
      attributes: [...attributes, ...CHANGE_ATTRIBUTES],
      paged: { pageSize: PAGE_SIZE },
      ...(rt.directory.binaryAttributes.length > 0
        ? { explicitBufferAttributes: rt.directory.binaryAttributes }
        : {}),
    });
    try {
      for await (const page of pages) found.push(...page.searchEntries.map((raw) => toDirEntry(raw, binary)));
    } catch (error) {
      if (error instanceof NoSuchObjectError) return [];
      throw error;
    }
    // A big group's member list comes in windows on AD (member;range=0-1499): read the rest.
    await completeRanges(found, (dn, attribute) => this.#readBase(dn, attribute), binary);
    return found;
  }

  async #readBase(dn: string, attribute: string, controls: Control[] = []) {
    const client = await this.#bound();
    const { searchEntries } = await client.search(dn, { scope: 'base', attributes: [attribute] }, controls);
    return searchEntries[0];
  }

  /** Every object of the naming context with uSNChanged in the window: its id and USN (no tombstones). */
  async changedIds(namingContext: string, from: number, to: number): Promise<{ id: string; usn: number }[]> {
    const client = await this.#bound();
    const found: { id: string; usn: number }[] = [];
    const pages = client.searchPaginated(namingContext, {
      scope: 'sub',
      filter: new AndFilter({ filters: usnWindow(from, to) }),
      attributes: ['objectGUID', 'uSNChanged'],
      explicitBufferAttributes: ['objectGUID'],
      paged: { pageSize: PAGE_SIZE },
    });
    for await (const page of pages)
      for (const raw of page.searchEntries) {
        const guid = Array.isArray(raw.objectGUID) ? raw.objectGUID[0] : raw.objectGUID;
        if (Buffer.isBuffer(guid) && guid.length === 16)
          found.push({ id: guidToString(guid), usn: Number(text(raw.uSNChanged)) });
      }
    return found;
  }

  /** One entry of a resource type by its objectGUID (`<GUID=...>` as the base), undefined when gone. */
  async entryByGuid(
    rt: CompiledResourceType,
    guid: string,
    attributes: readonly string[],
  ): Promise<DirEntry | undefined> {
    const hex = guidToHex(guid);
    if (hex === undefined) return undefined;
    const client = await this.#bound();
    const binary = lowerCaseSet(rt.directory.binaryAttributes);
    try {
      const { searchEntries } = await client.search(`<GUID=${hex}>`, {
        scope: 'base',
        attributes: [...attributes, ...CHANGE_ATTRIBUTES],
        explicitBufferAttributes: rt.directory.binaryAttributes,
      });
      const found = searchEntries.map((raw) => toDirEntry(raw, binary));
      await completeRanges(found, (dn, attribute) => this.#readBase(dn, attribute), binary);
      return found[0];
    } catch (error) {
      if (error instanceof NoSuchObjectError) return undefined;
      throw error;
    }
  }

  /** Objects deleted (or changed while deleted) with from <= uSNChanged <= to. */
  async tombstones(namingContext: string, from: number, to: number): Promise<Tombstone[]> {
    const client = await this.#bound();
    const found: Tombstone[] = [];
    const pages = client.searchPaginated(
      namingContext,
      {
        scope: 'sub',
        filter: new AndFilter({
          filters: [new EqualityFilter({ attribute: 'isDeleted', value: 'TRUE' }), ...usnWindow(from, to)],
        }),
        attributes: ['objectGUID', 'objectClass', 'lastKnownParent', 'uSNChanged', 'whenChanged'],
        explicitBufferAttributes: ['objectGUID'],
        paged: { pageSize: PAGE_SIZE },
      },
      new Control(SHOW_DELETED, { critical: true }),
    );
    for await (const page of pages)
      for (const raw of page.searchEntries) {
        const guid = Array.isArray(raw.objectGUID) ? raw.objectGUID[0] : raw.objectGUID;
        const parent = text(raw.lastKnownParent);
        if (!Buffer.isBuffer(guid) || guid.length !== 16 || !parent) continue;
        const classes = raw.objectClass;
        found.push({
          id: guidToString(guid),
          usn: Number(text(raw.uSNChanged)),
          lastKnownParent: parent,
          objectClasses: (Array.isArray(classes) ? classes : [classes]).map((c) => String(c)),
          ...(text(raw.whenChanged) ? { whenChanged: text(raw.whenChanged) } : {}),
        });
      }
    return found;
  }

  /** A group's member ids (objectGUIDs), from one read with the extended DN control. */
  async memberIds(dn: string, memberAttribute: string): Promise<string[]> {
    const extended = [new Control(EXTENDED_DN)];
    const raw = await this.#readBase(dn, memberAttribute, extended);
    if (!raw) return [];
    const entry = toDirEntry(raw, lowerCaseSet(undefined));
    await completeRanges([entry], (at, attribute) => this.#readBase(at, attribute, extended), new Set());
    const values = entry.attributes[memberAttribute.toLowerCase()] ?? [];
    return memberGuids(values.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v))));
  }

  async close(): Promise<void> {
    await this.reset();
  }
}

/**
 * Writes: add, modify, modifyDN and delete, with the assertion (If-Match, RFC 4528) and post-read
 * (RFC 4527) controls the caller asks for. Not retried: after a transport failure the directory
 * may or may not have applied them (docs/architecture.md §Writes and events).
 */
import { Attribute, Change, type Client, type Control, UnknownStatusCodeError } from 'ldapts';
import { parentDn, sameDn, splitFirstRdn } from '../lib/dn.ts';
import type { CallOptions, DirChange, DirEntry, DirValue, WriteOptions } from '../ports/directory.ts';
import { ConstraintError, NotFoundError, RefusedError, UnavailableError } from '../ports/errors.ts';
import { AssertionControl, PostReadControl } from './controls.ts';
import { lowerCaseSet, toDirEntry } from './entries.ts';
import type { EntryReader } from './entry-reader.ts';
import { hasResultCode, isTransportFailure, RequestNotSentError, ResultCode, toPortError } from './errors.ts';
import { alwaysTrue, toLdapFilter } from './filters.ts';
import type { OperationRunner, PooledConnection } from './pool.ts';
import type { CapabilitiesCache } from './root-dse.ts';
import type { SortedLists } from './sorted-lists.ts';
import { addedAttributes, mergeAdds, withoutPresentValues } from './tolerant-adds.ts';
import { wireValues } from './unicode-pwd.ts';

/** Retries of a modify refused for values a concurrent write added first (each drops some values). */
const ADD_RETRIES = 3;

export class Writes {
  readonly #pool: OperationRunner;
  readonly #reader: EntryReader;
  readonly #capabilities: CapabilitiesCache;
  readonly #sortedLists: SortedLists<PooledConnection>;
  /** TLS from the first byte (ldaps://) or upgraded with StartTLS: passwords may be sent. */
  readonly #encrypted: boolean;

  constructor(
    pool: OperationRunner,
    reader: EntryReader,
    capabilities: CapabilitiesCache,
    sortedLists: SortedLists<PooledConnection>,
    encrypted: boolean,
  ) {
    this.#pool = pool;
    this.#reader = reader;
    this.#capabilities = capabilities;
    this.#sortedLists = sortedLists;
    this.#encrypted = encrypted;
  }

  async add(
    dn: string,
    attributes: Record<string, DirValue[]>,
    options: WriteOptions,
  ): Promise<DirEntry | undefined> {
    let ldapAttributes: Attribute[];
    try {
      ldapAttributes = Object.entries(attributes)
        .filter(([, values]) => values.length > 0)
        .map(([type, values]) => new Attribute({ type, values: this.#wire(type, values) }));
    } catch (error) {
      throw toPortError(error, `add ${dn}`);
    }
    return this.#write(`add ${dn}`, dn, options, (client, controls) =>
      client.add(dn, ldapAttributes, controls),
    ).catch((error: unknown) => {
      throw namingRefusal(error, dn) ?? error;
    });
  }

  /**
   * One modify, one `add` per attribute. With `addsMayExist` its adds are idempotent
   * (tolerant-adds.ts): when the directory answers 20 because a concurrent write added a value
   * first, the modify is sent again without the values now present. The other changes and the
   * assertion go again unchanged, so nothing is lost.
   */
  async modify(dn: string, changes: DirChange[], options: WriteOptions): Promise<DirEntry | undefined> {
    let pending = mergeAdds(changes);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#modifyOnce(dn, pending, options);
      } catch (error) {
        const retry =
          options.addsMayExist && attempt < ADD_RETRIES
            ? await this.#withoutPresentValues(dn, pending, error)
            : undefined;
        if (!retry) throw error;
        pending = retry;
      }
    }
  }

  /** After result 20: the changes without the added values the entry holds now, if any were. */
  async #withoutPresentValues(
    dn: string,
    changes: DirChange[],
    error: unknown,
  ): Promise<DirChange[] | undefined> {
    const cause = error instanceof ConstraintError ? error.cause : undefined;
    if (!hasResultCode(cause, ResultCode.attributeOrValueExists)) return undefined;
    const attributes = addedAttributes(changes);
    if (attributes.length === 0) return undefined;
    const entry = await this.#reader.readEntry(dn, attributes).catch(() => undefined);
    return entry && withoutPresentValues(changes, entry);
  }

  async #modifyOnce(dn: string, changes: DirChange[], options: WriteOptions): Promise<DirEntry | undefined> {
    // RFC 4511 §4.6: an add needs values; delete or replace without values removes the attribute.
    let ldapChanges: Change[];
    try {
      ldapChanges = changes
        .filter((change) => change.operation !== 'add' || change.values.length > 0)
        .map(
          (change) =>
            new Change({
              operation: change.operation,
              modification: new Attribute({
                type: change.attribute,
                values: this.#wire(change.attribute, change.values),
              }),
            }),
        );
    } catch (error) {
      throw toPortError(error, `modify ${dn}`);
    }
    if (ldapChanges.length === 0) return this.#noChange(dn, options);
    return this.#write(`modify ${dn}`, dn, options, (client, controls) =>
      client.modify(dn, ldapChanges, controls),
    );
  }

  async rename(dn: string, newDn: string, options: CallOptions): Promise<void> {
    const target = modifyDnTarget(dn, newDn);
    const { deadlineAt } = options;
    await this.#write(`rename ${dn} to ${newDn}`, dn, { deadlineAt }, (client, controls) =>
      client.modifyDN(dn, target, controls),
    ).catch((error: unknown) => {
      throw namingRefusal(error, newDn) ?? error;
    });
  }

  async delete(dn: string, options: WriteOptions): Promise<void> {
    const { assertion, deadlineAt } = options;
    await this.#write(
      `delete ${dn}`,
      dn,
      { ...(assertion ? { assertion } : {}), deadlineAt },
      (client, controls) => client.del(dn, controls),
    );
  }

  #wire(attribute: string, values: DirValue[]): string[] {
    return wireValues(attribute, values, this.#encrypted) as string[];
  }

  /** Runs a write with the assertion and post-read controls the options ask for. */
  async #write(
    context: string,
    dn: string,
    options: WriteOptions,
    send: (client: Client, controls: Control[]) => Promise<void>,
  ): Promise<DirEntry | undefined> {
    try {
      const wantsEntry = options.returnAttributes !== undefined;
      const postRead = wantsEntry && (await this.#capabilities.get()).postRead;
      const controls: Control[] = [];
      if (options.assertion) {
        // Active Directory (and Samba AD) do not offer RFC 4528; sent anyway it fails with
        // unavailableCriticalExtension (12). A read-then-write check would not be atomic: refuse.
        if (!(await this.#capabilities.get()).assertion) {
          const detail =
            'conditional writes (If-Match) need the LDAP assertion control (RFC 4528), which this directory does not offer (Active Directory does not); retry without If-Match';
          throw new RefusedError(`${context}: ${detail}`, undefined, detail);
        }
        controls.push(new AssertionControl(toLdapFilter(options.assertion)));
      }
      const postReadControl = postRead ? new PostReadControl(options.returnAttributes ?? []) : undefined;
      if (postReadControl) controls.push(postReadControl);

      this.#sortedLists.invalidate();
      try {
        await this.#pool.run((client) => send(client, controls), {
          idempotent: false,
          deadlineAt: options.deadlineAt,
        });
      } finally {
        this.#sortedLists.invalidate();
      }

      if (!wantsEntry) return undefined;
      return await this.#writtenEntry(context, dn, options, postReadControl);
    } catch (error) {
      if (isTransportFailure(error) && !(error instanceof RequestNotSentError)) {
        throw new UnavailableError(
          `${context}: the connection failed before the directory answered; the write may or may not have been applied`,
          error,
        );
      }
      throw toPortError(error, context);
    }
  }

  /** The entry after a write: from the post-read control, else read back (RFC 4527 is optional). */
  async #writtenEntry(
    context: string,
    dn: string,
    options: WriteOptions,
    postReadControl: PostReadControl | undefined,
  ): Promise<DirEntry | undefined> {
    const returned = options.returnAttributes ?? [];
    const binaryAttributes = options.binaryAttributes ?? [];
    const binary = lowerCaseSet(binaryAttributes);
    const entry = postReadControl?.entry
      ? toDirEntry(postReadControl.entry.toObject(returned, binaryAttributes), binary)
      : // Renames report no entry.
        await this.#reader.readEntry(dn, returned, binaryAttributes, options.deadlineAt);
    if (entry) await this.#reader.completeRanges([entry], binary, context);
    return entry;
  }

  /**
   * A modify without changes is not sent (servers reject an empty modification list). The assertion
   * is still honoured, by a base search with it as the filter: nothing is written, so nothing races.
   */
  async #noChange(dn: string, options: WriteOptions): Promise<DirEntry | undefined> {
    const context = `modify ${dn}`;
    try {
      if (options.assertion) {
        const filter = toLdapFilter(options.assertion);
        const matching = await this.#reader.searchBase(dn, filter, [], undefined, options.deadlineAt);
        if (!matching) throw new UnknownStatusCodeError(122, 'assertion failed');
      }
      if (options.returnAttributes === undefined) {
        const entry = options.assertion
          ? true
          : await this.#reader.searchBase(dn, alwaysTrue(), [], undefined, options.deadlineAt);
        if (!entry) {
          throw new NotFoundError(`${context}: no such entry`);
        }
        return undefined;
      }
      const { returnAttributes, binaryAttributes, deadlineAt } = options;
      const entry = await this.#reader.readEntry(dn, returnAttributes, binaryAttributes, deadlineAt);
      if (!entry) throw new NotFoundError(`${context}: no such entry`);
      await this.#reader.completeRanges([entry], lowerCaseSet(options.binaryAttributes), context);
      return entry;
    } catch (error) {
      throw toPortError(error, context);
    }
  }
}

/**
 * Result 80 (`other`) on an add or a rename is the new name: OpenLDAP's back-mdb answers it for an
 * RDN longer than it can store (ldap/root-dse.ts OPENLDAP_MDB_MAX_RDN_BYTES). By what it means for
 * this operation it is the client's value, not an outage (issue 15): a naming refusal of the RDN
 * attribute. Elsewhere 80 stays a server-side failure.
 */
function namingRefusal(error: unknown, dn: string): ConstraintError | undefined {
  if (!(error instanceof UnavailableError) || !hasResultCode(error.cause, ResultCode.other)) return undefined;
  const rdnAttribute = /^\s*([^=+\s]+)\s*=/.exec(splitFirstRdn(dn)[0])?.[1]?.toLowerCase();
  return new ConstraintError(error.message, rdnAttribute, error.cause, 'naming');
}

/**
 * The new name as ldapts' modifyDN takes it: the new RDN, followed by the new parent only when the
 * parent changes (RFC 4511 §4.9 newSuperior; deleteOldRdn is always true).
 */
function modifyDnTarget(dn: string, newDn: string): string {
  const [newRdn, newParent] = splitFirstRdn(newDn);
  // ldapts splits "rdn,parent" at the first comma not preceded by a backslash, so an RDN ending
  // in an escaped backslash ("cn=a\\") must end in its hex form (\5C, RFC 4514 §2.4) instead.
  const safeRdn = newRdn.endsWith('\\\\') ? `${newRdn.slice(0, -2)}\\5C` : newRdn;
  return sameDn(parentDn(dn), newParent) ? safeRdn : `${safeRdn},${newParent}`;
}

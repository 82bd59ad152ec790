/**
 * Reading one entry by its DN (a base-scope search), and the rest of the values Active Directory
 * splits into ranges: what reads, writes (read-back) and the rootDSE share.
 */
import type { Entry, Filter } from 'ldapts';
import type { DirEntry } from '../ports/directory.ts';
import { UnavailableError } from '../ports/errors.ts';
import { lowerCaseSet, toDirEntry } from './entries.ts';
import { toPortError } from './errors.ts';
import { alwaysTrue } from './filters.ts';
import type { OperationRunner } from './pool.ts';
import { NO_ATTRIBUTES } from './query.ts';
import { completeRanges } from './ranges.ts';
import { ROOT_DSE_ATTRIBUTES } from './root-dse.ts';

export class EntryReader {
  readonly #pool: OperationRunner;

  constructor(pool: OperationRunner) {
    this.#pool = pool;
  }

  async readEntry(
    dn: string,
    attributes: string[],
    binaryAttributes?: string[],
    deadlineAt?: number,
  ): Promise<DirEntry | undefined> {
    const raw = await this.searchBase(dn, alwaysTrue(), attributes, binaryAttributes, deadlineAt);
    return raw && toDirEntry(raw, lowerCaseSet(binaryAttributes));
  }

  async searchBase(
    dn: string,
    filter: Filter,
    attributes: string[],
    binaryAttributes?: string[],
    deadlineAt?: number,
  ): Promise<Entry | undefined> {
    const { searchEntries } = await this.#pool.run(
      (client) =>
        client.search(dn, {
          scope: 'base',
          filter,
          attributes: attributes.length === 0 ? [NO_ATTRIBUTES] : attributes,
          explicitBufferAttributes: binaryAttributes ?? [],
        }),
      { idempotent: true, deadlineAt },
    );
    return searchEntries[0];
  }

  async readRootDse(): Promise<DirEntry> {
    const entry = await this.readEntry('', ROOT_DSE_ATTRIBUTES);
    if (!entry) throw new UnavailableError('the directory returned no rootDSE');
    return entry;
  }

  /**
   * Active Directory caps the values of one attribute per read (MaxValRange, default 1500) and
   * names the window `member;range=0-1499`: read the rest (`member;range=1500-*`, ...) so callers
   * see every value under the plain name. See ranges.ts.
   */
  async completeRanges(
    entries: readonly DirEntry[],
    binary: ReadonlySet<string>,
    context: string,
  ): Promise<void> {
    try {
      await completeRanges(
        entries,
        (dn, attribute) => this.searchBase(dn, alwaysTrue(), [attribute], [...binary]),
        binary,
      );
    } catch (error) {
      throw toPortError(error, context);
    }
  }
}

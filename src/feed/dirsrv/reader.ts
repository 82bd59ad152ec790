/**
 * The feed's connection to a 389-DS with the Retro Changelog plug-in: where the changelog stands
 * (rootDSE firstchangenumber / lastchangenumber / changeLog) and its records after a changeNumber,
 * besides everything the accesslog feed's reader does (member ids, entries, reconciliation walks).
 */
import { GreaterThanEqualsFilter } from 'ldapts';
import type { RawLogEntry } from '../accesslog.ts';
import { FeedReader } from '../reader.ts';
import { type ChangelogBounds, positiveInteger, single } from './changelog.ts';

const CHANGELOG_ATTRIBUTES = [
  'changeNumber',
  'targetDn',
  'changeType',
  'changes',
  'newRDN',
  'deleteOldRDN',
  'newSuperior',
  'changeTime',
  'targetUniqueId',
];
const ROOT_DSE_ATTRIBUTES = ['changeLog', 'firstChangeNumber', 'lastChangeNumber'];
const PAGE_SIZE = 500;
const DEFAULT_CHANGELOG = 'cn=changelog';

/**
 * A FeedReader that can also read 389's retro changelog: the composition root builds this one
 * whatever the source, since `feed.source: auto` decides only after the first rootDSE read.
 */
export class ChangelogReader extends FeedReader {
  #base = DEFAULT_CHANGELOG;

  /** The changelog's first and last numbers (both absent while it is empty, or the plug-in off). */
  async bounds(): Promise<ChangelogBounds & { enabled: boolean }> {
    const client = await this.bound();
    const { searchEntries } = await client.search('', { scope: 'base', attributes: ROOT_DSE_ATTRIBUTES });
    const root = searchEntries[0] ?? {};
    const base = single(root, 'changeLog');
    if (base !== undefined) this.#base = base;
    const first = positiveInteger(single(root, 'firstChangeNumber'));
    const last = positiveInteger(single(root, 'lastChangeNumber'));
    return {
      enabled: base !== undefined,
      ...(first !== undefined ? { first } : {}),
      ...(last !== undefined ? { last } : {}),
    };
  }

  /** Records with a changeNumber above `after`, lowest first, at most `limit`. */
  async changes(after: number, limit: number): Promise<RawLogEntry[]> {
    const client = await this.bound();
    const found: RawLogEntry[] = [];
    const pages = client.searchPaginated(this.#base, {
      scope: 'one',
      // changeNumber has integer ordering: >= is answered from the plug-in's changenumber index.
      filter: new GreaterThanEqualsFilter({ attribute: 'changeNumber', value: String(after + 1) }),
      attributes: CHANGELOG_ATTRIBUTES,
      paged: { pageSize: Math.min(PAGE_SIZE, limit) },
    });
    for await (const page of pages) {
      found.push(...(page.searchEntries as RawLogEntry[]));
      if (found.length >= limit) break;
    }
    const number = (entry: RawLogEntry) => positiveInteger(single(entry, 'changeNumber')) ?? 0;
    found.sort((a, b) => number(a) - number(b));
    return found.slice(0, limit);
  }
}

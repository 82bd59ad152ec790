/**
 * Which directory log the feed reads (`feed.source`, docs/architecture.md §Change feed):
 * OpenLDAP's accesslog overlay or 389-DS's Retro Changelog; `auto` asks the rootDSE once, on the
 * first poll (the directory may not answer yet when the bridge starts).
 */
import type { FeedConfig } from '../config/index.ts';
import { capabilitiesFromRootDse, ROOT_DSE_ATTRIBUTES } from '../ldap/root-dse.ts';
import { type ConsumerOptions, FeedConsumer, type FeedSourceConsumer } from './consumer.ts';
import { ChangelogConsumer } from './dirsrv/consumer.ts';
import type { ChangelogReader } from './dirsrv/reader.ts';
import { type FeedStatus, initialStatus } from './handle.ts';
import type { FeedReader } from './reader.ts';

export type FeedSource = Exclude<FeedConfig['source'], 'auto'>;

/** The log a directory keeps, from its rootDSE's vendor. */
export async function detectSource(reader: FeedReader): Promise<FeedSource> {
  const rootDse = await reader.entry('', ROOT_DSE_ATTRIBUTES);
  const vendor = rootDse ? capabilitiesFromRootDse(rootDse).vendor : 'unknown';
  if (vendor === '389ds') return 'retro-changelog';
  if (vendor === 'openldap') return 'accesslog';
  throw new Error(`feed.source auto: no change feed for a directory of vendor "${vendor}"; set feed.source`);
}

/** A consumer of the configured source, built on the first poll once the source is known. */
export class SelectedConsumer implements FeedSourceConsumer {
  readonly status: FeedStatus;
  readonly #choose: () => Promise<FeedSource>;
  readonly #build: (source: FeedSource) => FeedSourceConsumer;
  #consumer: FeedSourceConsumer | undefined;

  constructor(
    status: FeedStatus,
    choose: () => Promise<FeedSource>,
    build: (source: FeedSource) => FeedSourceConsumer,
  ) {
    this.status = status;
    this.#choose = choose;
    this.#build = build;
  }

  async pollOnce(): Promise<number> {
    this.#consumer ??= this.#build(await this.#choose());
    return this.#consumer.pollOnce();
  }
}

/** The consumer of `feed.source` (`auto`: of the directory's kind), sharing one status. */
export function consumerOfSource(
  options: Omit<ConsumerOptions, 'reader'> & { reader: ChangelogReader },
): FeedSourceConsumer {
  const status = initialStatus();
  const { config, reader, log } = options;
  return new SelectedConsumer(
    status,
    async () => {
      const source = config.source === 'auto' ? await detectSource(reader) : config.source;
      log.info({ source }, 'feed: reading the directory log');
      return source;
    },
    (source) =>
      source === 'retro-changelog'
        ? new ChangelogConsumer(options, status)
        : new FeedConsumer(options, status),
  );
}

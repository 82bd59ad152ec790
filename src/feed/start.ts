/**
 * Which change feed runs (docs/architecture.md §Change feed): `feed.source`, or with `auto` the
 * directory's kind from its rootDSE (Active Directory announces forestFunctionality). Active
 * Directory has its own feed (uSNChanged polling, feed/ad/); the directories that keep a numbered
 * log (OpenLDAP's accesslog, 389-DS's Retro Changelog) share `startFeed`, which picks the log
 * itself (feed/source.ts).
 */
import { lowerCaseSet, toDirEntry } from '../ldap/entries.ts';
import { capabilitiesFromRootDse, ROOT_DSE_ATTRIBUTES } from '../ldap/root-dse.ts';
import { startAdFeed } from './ad/index.ts';
import { type FeedOptions, type FeedRuntime, startFeed } from './index.ts';
import { type FeedConnection, openFeedClient } from './reader.ts';

/** `log`: a directory whose own log `startFeed` reads (accesslog or Retro Changelog). */
export type DetectedSource = 'ad' | 'log';

const DETECT_RETRY_MS = 2_000;

export async function detectFeedSource(connection: FeedConnection): Promise<DetectedSource> {
  const client = await openFeedClient(connection);
  try {
    const { searchEntries } = await client.search('', { scope: 'base', attributes: ROOT_DSE_ATTRIBUTES });
    const raw = searchEntries[0];
    if (!raw) return 'log';
    const { vendor } = capabilitiesFromRootDse(toDirEntry(raw, lowerCaseSet(undefined)));
    return vendor === 'activeDirectory' ? 'ad' : 'log';
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

function startSource(
  source: DetectedSource | FeedOptions['config']['source'],
  options: FeedOptions,
): FeedRuntime {
  return source === 'ad' ? startAdFeed(options) : startFeed(options);
}

export function startConfiguredFeed(options: FeedOptions): FeedRuntime {
  const { source } = options.config;
  return source === 'auto' ? startDetectedFeed(options) : startSource(source, options);
}

/** The feed of the kind the directory turns out to be; standing by (and retrying) until it answers. */
function startDetectedFeed(options: FeedOptions): FeedRuntime {
  let runtime: FeedRuntime | undefined;
  let stopped = false;
  let lastError: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let resolveStarted: (feed: FeedRuntime) => void = () => undefined;
  const started = new Promise<FeedRuntime>((resolve) => {
    resolveStarted = resolve;
  });
  const attempt = () => {
    detectFeedSource(options.connection).then(
      (source) => {
        if (stopped) return;
        options.log.info({ source }, 'feed: source chosen from the rootDSE');
        runtime = startSource(source, options);
        resolveStarted(runtime);
      },
      (error: Error) => {
        lastError = error.message;
        options.log.warn(
          { err: error.message },
          'feed: cannot read the rootDSE to choose the source; retrying',
        );
        if (!stopped) timer = setTimeout(attempt, DETECT_RETRY_MS);
      },
    );
  };
  attempt();
  const idle = { active: 0, positionSeconds: 0, lagSeconds: 0, records: 0, ownWrites: 0, reconciliations: 0 };
  return {
    status: () =>
      runtime?.status() ?? {
        role: stopped ? 'stopped' : 'standby',
        lagMs: 0,
        events: { directory: 0 },
        ownWrites: 0,
        records: 0,
        reconciliations: 0,
        ...(lastError ? { lastError } : {}),
      },
    metrics: () => runtime?.metrics() ?? { ...idle, eventsByOrigin: options.publisher.queuedByOrigin },
    warnings: () =>
      runtime?.warnings() ?? (lastError ? [`feed: cannot choose the source yet (${lastError})`] : []),
    pollOnce: async () => (await started).pollOnce(),
    reconcile: async (request) => (await started).reconcile(request),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await runtime?.stop();
    },
  };
}

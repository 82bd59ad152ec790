/**
 * Cross-instance invalidation (docs/architecture.md §Kept sorted lists and caches): every write
 * this instance sends to the directory is announced on one Redis pub/sub channel, and every other
 * instance, hearing it, ends its kept sorted lists and forgets the written DNs in its reference
 * cache, so read-your-writes holds behind a load balancer without session affinity.
 *
 * The announcement is published after the directory answered and before the write's response is
 * sent (PUBLISH returns once Redis has handed the message to the subscribers' sockets). Lists a
 * reader started before the notice arrived are refused by the sorted lists' write generation.
 * Pub/sub delivers at most once: while the subscriber is disconnected notices are lost, so on every
 * reconnect everything kept is ended (`onRemoteWrite(undefined)`). Redis down: writes go on
 * unannounced and other instances fall back to the bounded staleness of the caches.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type {
  CallOptions,
  DirChange,
  DirEntry,
  Directory,
  DirectoryCapabilities,
  DirectorySubschema,
  DirValue,
  SearchRequest,
  SearchResult,
  WriteOptions,
} from '../ports/directory.ts';

/** One announced write: who wrote, which DNs, when (epoch ms with sub-ms precision). */
export interface WriteNotice {
  origin: string;
  dns: string[];
  sentAt: number;
}

/** A publish that Redis does not answer within this long is given up: the write is not held back. */
const ANNOUNCE_TIMEOUT_MS = 1_000;
/** Upper bound on DNs per notice we accept from the channel (a notice carries one or two). */
const MAX_DNS_PER_NOTICE = 16;

export interface WriteNoticeOptions {
  /** The shared client (commands); a duplicate of it subscribes. */
  redis: Redis;
  keyPrefix: string;
  /** Each remote notice's age on arrival, in ms (the invalidation window), for benchmarks. */
  observeWindow?: (ms: number) => void;
  warn: (fields: Record<string, unknown>, message: string) => void;
}

export interface WriteNotices {
  /** This instance's id in the notices it sends. */
  readonly origin: string;
  /** The directory, with every write announced. */
  announcing(directory: Directory): Directory;
  /**
   * Subscribes: `onRemoteWrite` hears each other instance's written DNs, and undefined when
   * notices may have been missed (on subscribing and on every reconnect). Once per instance.
   */
  listen(onRemoteWrite: RemoteWriteListener): void;
  stop(): Promise<void>;
}

/** Another instance wrote `dns`; undefined: notices may have been missed. */
export type RemoteWriteListener = (dns: readonly string[] | undefined) => void;

export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Parses a notice from the channel; undefined for anything malformed (the channel is shared). */
export function parseNotice(text: string): WriteNotice | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { origin, dns, sentAt } = value as Record<string, unknown>;
  if (typeof origin !== 'string' || typeof sentAt !== 'number' || !Number.isFinite(sentAt)) return undefined;
  if (!Array.isArray(dns) || dns.length > MAX_DNS_PER_NOTICE) return undefined;
  if (!dns.every((dn): dn is string => typeof dn === 'string')) return undefined;
  return { origin, dns, sentAt };
}

export function startWriteNotices(options: WriteNoticeOptions): WriteNotices {
  const origin = randomUUID();
  const channel = `${options.keyPrefix}directory-writes`;
  const announce = async (dns: string[]): Promise<void> => {
    const notice: WriteNotice = { origin, dns, sentAt: wallClockMs() };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${ANNOUNCE_TIMEOUT_MS} ms`)),
        ANNOUNCE_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([options.redis.publish(channel, JSON.stringify(notice)), timeout]);
    } catch (error) {
      options.warn(
        { err: (error as Error).message },
        'write notices: a write was not announced; other instances may serve kept results until they expire',
      );
    } finally {
      clearTimeout(timer);
    }
  };

  let subscriber: Redis | undefined;
  return {
    origin,
    announcing: (directory) => new AnnouncingDirectory(directory, announce),
    listen(onRemoteWrite) {
      subscriber ??= subscribe(options, { channel, origin, onRemoteWrite });
    },
    async stop() {
      await subscriber?.quit().catch(() => subscriber?.disconnect());
    },
  };
}

/** The subscription to other instances' notices, on a connection of its own. */
function subscribe(
  options: WriteNoticeOptions,
  own: { channel: string; origin: string; onRemoteWrite: RemoteWriteListener },
): Redis {
  const { channel, origin, onRemoteWrite } = own;
  const subscriber = options.redis.duplicate({
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
  });
  let connectedBefore = false;
  subscriber.on('error', (error: Error) =>
    options.warn({ err: error.message }, 'write notices: subscriber connection problem'),
  );
  subscriber.on('ready', () => {
    // Notices sent while we were away are lost: end everything kept.
    if (connectedBefore) onRemoteWrite(undefined);
    connectedBefore = true;
  });
  subscriber.on('message', (_channel: string, text: string) => {
    const notice = parseNotice(text);
    if (!notice || notice.origin === origin) return;
    options.observeWindow?.(wallClockMs() - notice.sentAt);
    onRemoteWrite(notice.dns);
  });
  // What was kept before the subscription took effect may predate writes we never heard of.
  subscriber.subscribe(channel).then(
    () => onRemoteWrite(undefined),
    (error: Error) => options.warn({ err: error.message }, 'write notices: could not subscribe'),
  );

  return subscriber;
}

/** A Directory whose writes are announced once the directory has answered (or failed: it may have applied it). */
class AnnouncingDirectory implements Directory {
  readonly #inner: Directory;
  readonly #announce: (dns: string[]) => Promise<void>;

  constructor(inner: Directory, announce: (dns: string[]) => Promise<void>) {
    this.#inner = inner;
    this.#announce = announce;
  }

  async #announced<T>(dns: string[], write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      await this.#announce(dns);
    }
  }

  search(request: SearchRequest): Promise<SearchResult> {
    return this.#inner.search(request);
  }

  read(
    dn: string,
    attributes: string[],
    binaryAttributes?: string[],
    options?: CallOptions,
  ): Promise<DirEntry | undefined> {
    return this.#inner.read(dn, attributes, binaryAttributes, options);
  }

  add(
    dn: string,
    attributes: Record<string, DirValue[]>,
    options?: WriteOptions,
  ): Promise<DirEntry | undefined> {
    return this.#announced([dn], () => this.#inner.add(dn, attributes, options));
  }

  modify(dn: string, changes: DirChange[], options?: WriteOptions): Promise<DirEntry | undefined> {
    return this.#announced([dn], () => this.#inner.modify(dn, changes, options));
  }

  rename(dn: string, newDn: string, options?: CallOptions): Promise<void> {
    return this.#announced([dn, newDn], () => this.#inner.rename(dn, newDn, options));
  }

  delete(dn: string, options?: WriteOptions): Promise<void> {
    return this.#announced([dn], () => this.#inner.delete(dn, options));
  }

  capabilities(): Promise<DirectoryCapabilities> {
    return this.#inner.capabilities();
  }

  subschema(): Promise<DirectorySubschema | undefined> {
    return this.#inner.subschema();
  }

  ping(): Promise<void> {
    return this.#inner.ping();
  }

  endKeptResults(): void {
    this.#inner.endKeptResults?.();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/**
 * The trusted identity providers in force: the last good metadata of each, refreshed on its own
 * timer. A failed refresh keeps the last good metadata (until its validUntil) and is exposed for
 * /ready and the logs, described by our own words only: no document, no key material.
 */
import type { TrustedIssuers } from './assertion.ts';
import { type IdpMetadata, MetadataError, type MetadataExpectations, parseIdpMetadata } from './metadata.ts';

export interface IdpSource extends MetadataExpectations {
  /** The configuration's name for this IdP: in status, logs and scope rules. */
  readonly name: string;
  /** Reads the metadata text (a file, or fetchMetadata for a URL). */
  readonly load: () => Promise<string>;
}

/** The subset of a pino logger used here. */
export interface TrustLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface TrustStoreOptions {
  /** Time between refreshes; an IdP's shorter cacheDuration wins. Default one hour. */
  readonly refreshIntervalMs?: number;
  /** Time before the next try after a failed refresh. Default one minute. */
  readonly retryIntervalMs?: number;
  readonly now?: () => number;
  readonly log?: TrustLog;
}

export interface IdpStatus {
  readonly name: string;
  readonly entityId?: string;
  /** When the metadata in force was loaded. */
  readonly loadedAt?: Date;
  readonly validUntil?: Date;
  /** True when the metadata in force is usable (present and not past validUntil). */
  readonly trusted: boolean;
  /** The last refresh's failure, cleared by the next success. */
  readonly lastError?: string;
  readonly lastErrorAt?: Date;
}

interface Entry {
  readonly source: IdpSource;
  metadata?: IdpMetadata;
  loadedAt?: number;
  lastError?: string;
  lastErrorAt?: number;
  timer?: NodeJS.Timeout;
}

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** A failure in our words: MetadataError messages are ours; anything else is named by its code only. */
export function describeFailure(error: unknown): string {
  if (error instanceof MetadataError) return error.message;
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string'
    ? `the metadata could not be read (${code})`
    : 'the metadata could not be read';
}

export class TrustStore implements TrustedIssuers {
  readonly #entries: Entry[];
  readonly #refreshMs: number;
  readonly #retryMs: number;
  readonly #now: () => number;
  readonly #log: TrustLog | undefined;
  #stopped = true;

  constructor(sources: readonly IdpSource[], options: TrustStoreOptions = {}) {
    this.#entries = sources.map((source) => ({ source }));
    this.#refreshMs = options.refreshIntervalMs ?? HOUR;
    this.#retryMs = options.retryIntervalMs ?? MINUTE;
    this.#now = options.now ?? Date.now;
    this.#log = options.log;
  }

  /** Loads every IdP once (failures are recorded, not thrown), then keeps refreshing each. */
  async start(): Promise<void> {
    this.#stopped = false;
    await Promise.all(this.#entries.map((entry) => this.#refresh(entry)));
  }

  /** Stops every timer; a refresh in flight finishes but schedules nothing. */
  stop(): void {
    this.#stopped = true;
    for (const entry of this.#entries) clearTimeout(entry.timer);
  }

  /** Refreshes every IdP now (the admin's "reload"); the timers restart from here. */
  async refreshAll(): Promise<void> {
    await Promise.all(this.#entries.map((entry) => this.#refresh(entry)));
  }

  /** The metadata in force for an entityID, unless it is past its validUntil. */
  metadata(entityId: string): { name: string; metadata: IdpMetadata } | undefined {
    const entry = this.#entries.find((e) => e.metadata?.entityId === entityId);
    if (!entry?.metadata || !this.#usable(entry.metadata)) return undefined;
    return { name: entry.source.name, metadata: entry.metadata };
  }

  /** The metadata in force for a configured IdP name (SP-initiated login picks the IdP by name). */
  byName(name: string): IdpMetadata | undefined {
    const entry = this.#entries.find((e) => e.source.name === name);
    return entry?.metadata && this.#usable(entry.metadata) ? entry.metadata : undefined;
  }

  signingCertificates(entityId: string): readonly string[] | undefined {
    return this.metadata(entityId)?.metadata.signingCertificates;
  }

  /** Every configured IdP has usable metadata (for /ready). */
  get ready(): boolean {
    return this.#entries.every((entry) => entry.metadata !== undefined && this.#usable(entry.metadata));
  }

  status(): IdpStatus[] {
    return this.#entries.map((entry) => {
      const { metadata } = entry;
      return {
        name: entry.source.name,
        trusted: metadata !== undefined && this.#usable(metadata),
        ...(metadata ? { entityId: metadata.entityId } : {}),
        ...(metadata?.validUntil ? { validUntil: metadata.validUntil } : {}),
        ...(entry.loadedAt !== undefined ? { loadedAt: new Date(entry.loadedAt) } : {}),
        ...(entry.lastError !== undefined ? { lastError: entry.lastError } : {}),
        ...(entry.lastErrorAt !== undefined ? { lastErrorAt: new Date(entry.lastErrorAt) } : {}),
      };
    });
  }

  #usable(metadata: IdpMetadata): boolean {
    return metadata.validUntil === undefined || metadata.validUntil.getTime() > this.#now();
  }

  /** Another source already provides this entityID: one issuer, one set of keys. */
  #claimedElsewhere(entry: Entry, entityId: string): boolean {
    return this.#entries.some((other) => other !== entry && other.metadata?.entityId === entityId);
  }

  async #refresh(entry: Entry): Promise<void> {
    clearTimeout(entry.timer);
    const { source } = entry;
    try {
      const metadata = parseIdpMetadata(await source.load(), source);
      if (!this.#usable(metadata)) throw new MetadataError('the metadata is past its validUntil');
      if (this.#claimedElsewhere(entry, metadata.entityId)) {
        throw new MetadataError('another configured IdP already has this entityID');
      }
      entry.metadata = metadata;
      entry.loadedAt = this.#now();
      delete entry.lastError;
      delete entry.lastErrorAt;
      this.#log?.info({ idp: source.name, entityId: metadata.entityId }, 'SAML metadata loaded');
    } catch (error) {
      entry.lastError = describeFailure(error);
      entry.lastErrorAt = this.#now();
      const kept = entry.metadata ? 'keeping the last good metadata' : 'no metadata in force';
      this.#log?.warn({ idp: source.name, error: entry.lastError }, `SAML metadata refresh failed; ${kept}`);
    }
    this.#schedule(entry);
  }

  #schedule(entry: Entry): void {
    if (this.#stopped) return;
    const cache = entry.metadata?.cacheDurationMs ?? Number.POSITIVE_INFINITY;
    const delay = entry.lastError !== undefined ? this.#retryMs : Math.min(this.#refreshMs, cache);
    entry.timer = setTimeout(() => void this.#refresh(entry), Math.max(1000, delay));
    entry.timer.unref();
  }
}

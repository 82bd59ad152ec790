/**
 * DN -> referenced resource (id, display), for references read from the entry itself (a user's
 * memberOf, manager). An optimisation with bounded staleness (docs/architecture.md §Statelessness: never a source of
 * truth): entries live for `ttlMs`, so a group deleted and re-created under the same DN may show
 * its old id for at most that long. Renames change the DN and so never hit a stale entry.
 */
export interface CachedReference {
  resourceType: string;
  id: string;
  display?: string;
}

export class ReferenceCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, { value: CachedReference | null; expires: number }>();

  constructor(ttlMs: number, maxEntries: number) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  /** undefined: not cached; null: cached as "not a resource of the wanted types". */
  get(dn: string, now = Date.now()): CachedReference | null | undefined {
    const key = dn.toLowerCase();
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    if (hit.expires <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(dn: string, value: CachedReference | null, now = Date.now()): void {
    if (this.#ttlMs <= 0) return;
    const key = dn.toLowerCase();
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      // Maps iterate in insertion order: the first key is the oldest.
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, expires: now + this.#ttlMs });
  }

  /** Forgets everything (writes another instance made may have been missed). */
  clear(): void {
    this.#entries.clear();
  }

  /** Forgets a DN (after the bridge itself deleted or renamed the entry). */
  forget(dn: string): void {
    this.#entries.delete(dn.toLowerCase());
  }
}

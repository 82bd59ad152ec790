/**
 * Assertion IDs seen at the token endpoint, kept until the assertion would have expired, so that a
 * bearer assertion is used once on every instance (RFC 7522 §3 item 5; SAML profiles §4.1.4.5).
 */
import { hash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface ReplayCache {
  /**
   * Records (issuer, id) for `ttlMs`. True when it was not yet recorded (first use), false for a
   * replay. Rejects when the store cannot answer: the caller must then refuse, never let it pass.
   */
  claim(issuer: string, id: string, ttlMs: number): Promise<boolean>;
}

/** One fixed-length key per (issuer, id): neither part can bleed into the other. */
export function replayKey(issuer: string, id: string): string {
  return hash('sha256', `${issuer}\u0000${id}`, 'hex');
}

/** For a single process and unit tests. Expired entries are swept as claims arrive. */
export class MemoryReplayCache implements ReplayCache {
  readonly #expiries = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async claim(issuer: string, id: string, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    for (const [key, expiry] of this.#expiries) if (expiry <= now) this.#expiries.delete(key);
    const key = replayKey(issuer, id);
    if (this.#expiries.has(key)) return false;
    this.#expiries.set(key, now + Math.max(1, ttlMs));
    return true;
  }

  get size(): number {
    return this.#expiries.size;
  }
}

/** Shared by every instance: one `SET key 1 NX PX ttl`, atomic in Redis. */
export class RedisReplayCache implements ReplayCache {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix = 'scim-bridge:saml-replay:') {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async claim(issuer: string, id: string, ttlMs: number): Promise<boolean> {
    const key = this.#prefix + replayKey(issuer, id);
    const set = await this.#redis.set(key, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    return set === 'OK';
  }
}

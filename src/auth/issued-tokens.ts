/**
 * Short-lived access tokens issued at the token endpoint (RFC 6749 §5.1, bearer per RFC 6750):
 * 32 random bytes, base64url. Redis holds only the token's SHA-256 with its principal and scopes,
 * under a TTL, so any instance can check a token and a copy of Redis holds no usable secret.
 * A lookup hashes first and then asks Redis for that hash: the token's bytes never meet a
 * data-dependent comparison. Tokens are never logged; the hash (`id`) names one for revocation.
 *
 * With `cacheMs` > 0 an instance reuses a grant it looked up for that long instead of a Redis GET
 * per request; a revocation is published on `<prefix>revoked` and every instance that listens
 * (`forget`) drops it at once, so the cache only bounds staleness when that message is lost.
 */
import { hash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface IssuedPrincipal {
  /** Who the token acts for: the assertion's NameID. */
  readonly name: string;
  /** The identity provider that vouched for it (its entityID). */
  readonly issuer: string;
}

export interface IssuedToken {
  /** The bearer token: handed to the client once, stored nowhere. */
  readonly token: string;
  /** Its SHA-256 (hex): the handle for revocation and logs. */
  readonly id: string;
  readonly expiresIn: number;
}

export interface TokenGrant {
  readonly principal: IssuedPrincipal;
  readonly scopes: readonly string[];
  readonly expiresAt: Date;
}

/** The shape of an issued token: 32 bytes as base64url, no padding. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function tokenId(token: string): string {
  return hash('sha256', token, 'hex');
}

/** Bound on cached grants per instance; the oldest goes first. */
const CACHE_ENTRIES = 10_000;

export class IssuedTokens {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { grant: TokenGrant; until: number }>();

  constructor(redis: Redis, options: { prefix?: string; now?: () => number; cacheMs?: number } = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? 'scim-bridge:token:';
    this.#now = options.now ?? Date.now;
    this.#cacheMs = options.cacheMs ?? 0;
  }

  /** The pub/sub channel on which revocations are announced. */
  get revocationChannel(): string {
    return `${this.#prefix}revoked`;
  }

  /** Drops a cached grant (a revocation announced by any instance). */
  forget(id: string): void {
    this.#cache.delete(id);
  }

  /** Issues a token valid for `ttlSeconds` (whole seconds, at least one). */
  async issue(
    principal: IssuedPrincipal,
    scopes: readonly string[],
    ttlSeconds: number,
  ): Promise<IssuedToken> {
    const expiresIn = Math.max(1, Math.floor(ttlSeconds));
    const token = randomBytes(32).toString('base64url');
    const id = tokenId(token);
    const expiresAt = this.#now() + expiresIn * 1000;
    const record = JSON.stringify({ principal, scopes, expiresAt });
    await this.#redis.set(this.#prefix + id, record, 'PX', expiresIn * 1000);
    return { token, id, expiresIn };
  }

  /** The grant behind a presented token, or undefined when it is unknown, revoked or expired. */
  async lookup(token: string): Promise<TokenGrant | undefined> {
    if (!TOKEN_SHAPE.test(token)) return undefined;
    const id = tokenId(token);
    const now = this.#now();
    const cached = this.#cache.get(id);
    if (cached && cached.until > now) return cached.grant;
    const record = await this.#redis.get(this.#prefix + id);
    if (record === null) return undefined;
    const parsed = JSON.parse(record) as { principal: IssuedPrincipal; scopes: string[]; expiresAt: number };
    // Redis expires the key itself; this guards against a clock or TTL slip on the server.
    if (parsed.expiresAt <= now) return undefined;
    const grant = {
      principal: parsed.principal,
      scopes: parsed.scopes,
      expiresAt: new Date(parsed.expiresAt),
    };
    if (this.#cacheMs > 0) {
      if (this.#cache.size >= CACHE_ENTRIES) this.#cache.delete(this.#cache.keys().next().value as string);
      this.#cache.set(id, { grant, until: Math.min(now + this.#cacheMs, parsed.expiresAt) });
    }
    return grant;
  }

  /** Every token still valid, by id (a SCAN of the prefix; for the CLI, not for requests). */
  async list(limit = 10_000): Promise<(TokenGrant & { id: string })[]> {
    const found: (TokenGrant & { id: string })[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${this.#prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const record = await this.#redis.get(key);
        if (record === null || found.length >= limit) continue;
        const parsed = JSON.parse(record) as {
          principal: IssuedPrincipal;
          scopes: string[];
          expiresAt: number;
        };
        const grant = {
          principal: parsed.principal,
          scopes: parsed.scopes,
          expiresAt: new Date(parsed.expiresAt),
        };
        found.push({ id: key.slice(this.#prefix.length), ...grant });
      }
    } while (cursor !== '0' && found.length < limit);
    return found;
  }

  /** Revokes by token or by its id (the hash); true when it was still valid. */
  async revoke(tokenOrId: { token: string } | { id: string }): Promise<boolean> {
    const id = 'token' in tokenOrId ? tokenId(tokenOrId.token) : tokenOrId.id;
    const deleted = (await this.#redis.del(this.#prefix + id)) === 1;
    this.forget(id);
    await this.#redis.publish(this.revocationChannel, id);
    return deleted;
  }
}

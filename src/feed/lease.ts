/**
 * One active feed consumer across all instances (docs/architecture.md §Change feed): a Redis lease
 * (`SET key owner NX PX ttl`, renewed while alive) and a fencing token (a counter bumped on every
 * acquisition). The position is written only with the current token, checked inside Redis in the
 * same script, so a consumer that lost its lease while paused (GC, network) cannot move the
 * position back or past changes it never published.
 */
import type { Redis } from 'ioredis';

export function feedKeys(keyPrefix: string) {
  return {
    lease: `${keyPrefix}feed:lease`,
    fence: `${keyPrefix}feed:fence`,
    /** Hash {reqStart, updatedAt}: the last record handled (the high-water mark). */
    position: `${keyPrefix}feed:position`,
    /** Sorted set of the records handled within the re-read window (member reqStart, score µs/1000). */
    seen: `${keyPrefix}feed:seen`,
    /** Per service: hash `<type>:<id>` -> JSON of per-attribute digests (what it was last told). */
    digests: (service: string) => `${keyPrefix}feed:digest:${service}`,
  };
}

const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local token = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1] .. '#' .. token, 'PX', ARGV[2])
  return token
end
return 0`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** KEYS: fence, position, seen. ARGV: token, reqStart, now, kind, seen members and scores..., trim-below score. */
const COMMIT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'reqStart', ARGV[2], 'updatedAt', ARGV[3], 'kind', ARGV[4])
local n = #ARGV
for i = 5, n - 1, 2 do redis.call('ZADD', KEYS[3], ARGV[i + 1], ARGV[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[n])
return 1`;

export class FeedLease {
  readonly #redis: Redis;
  readonly #keys: ReturnType<typeof feedKeys>;
  readonly #owner: string;
  readonly #ttlMs: number;
  #token: number | undefined;

  constructor(redis: Redis, keyPrefix: string, owner: string, ttlMs: number) {
    this.#redis = redis;
    this.#keys = feedKeys(keyPrefix);
    this.#owner = owner;
    this.#ttlMs = ttlMs;
  }

  /** The fencing token while this instance holds the lease. */
  get token(): number | undefined {
    return this.#token;
  }

  /** Takes the lease when free, or keeps it (renewed) when held. False: another instance holds it. */
  async hold(): Promise<boolean> {
    if (this.#token !== undefined) {
      const renewed = await this.#redis.eval(RENEW, 1, this.#keys.lease, this.#value(), this.#ttlMs);
      if (renewed === 1) return true;
      this.#token = undefined;
    }
    const token = Number(
      await this.#redis.eval(ACQUIRE, 2, this.#keys.lease, this.#keys.fence, this.#owner, this.#ttlMs),
    );
    if (token > 0) this.#token = token;
    return token > 0;
  }

  async release(): Promise<void> {
    if (this.#token === undefined) return;
    await this.#redis.eval(RELEASE, 1, this.#keys.lease, this.#value()).catch(() => undefined);
    this.#token = undefined;
  }

  /**
   * Moves the position to `reqStart` and records the handled records (within the re-read window),
   * only while this token is the newest. False: the lease was lost; nothing was written.
   */
  async commit(
    position: FeedPosition,
    handled: readonly { reqStart: string; score: number }[],
    trimBelow: number,
  ): Promise<boolean> {
    if (this.#token === undefined) return false;
    const members = handled.flatMap((h) => [h.reqStart, String(h.score)]);
    const written = await this.#redis.eval(
      COMMIT,
      3,
      this.#keys.fence,
      this.#keys.position,
      this.#keys.seen,
      String(this.#token),
      position.reqStart,
      String(Date.now()),
      position.kind,
      ...members,
      String(trimBelow),
    );
    if (written !== 1) this.#token = undefined;
    return written === 1;
  }

  #value(): string {
    return `${this.#owner}#${this.#token}`;
  }
}

/**
 * The high-water mark: the reqStart of the last record handled (`record`), or a time the feed
 * started from without one (`start`: the first run, or after a reconciliation), which the log
 * does not hold and the gap check must not look for.
 */
export interface FeedPosition {
  reqStart: string;
  kind: 'record' | 'start';
  updatedAt?: number;
}

/** The stored position (undefined before the first run). */
export async function readPosition(redis: Redis, keyPrefix: string): Promise<FeedPosition | undefined> {
  const fields = await redis.hgetall(feedKeys(keyPrefix).position);
  if (!fields.reqStart) return undefined;
  return {
    reqStart: fields.reqStart,
    kind: fields.kind === 'start' ? 'start' : 'record',
    updatedAt: Number(fields.updatedAt ?? 0),
  };
}

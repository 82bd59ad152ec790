/**
 * Redis implementation of the `IdempotencyStore` port, shared by every bridge instance.
 *
 * One string key per (client, key) scope: `${prefix}idem:${sha256(client)}:${sha256(key)}`, holding
 * JSON. Hashing keeps clients' raw keys and principal names out of Redis key names and bounds the
 * key length. The lock is `SET NX PX` (atomic on one Redis); completing and releasing are Lua scripts
 * that act only when the in-flight record still belongs to the caller, so a request whose lock has
 * expired cannot overwrite the work of the request that took the key over.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type {
  BeginResult,
  IdempotencyRecord,
  IdempotencyScope,
  IdempotencyStore,
  StoredResponse,
} from '../ports/idempotency.ts';

export interface RedisIdempotencyOptions {
  /** Prefix of every key (config redis.keyPrefix), e.g. 'scim-bridge:'. */
  keyPrefix: string;
  /** Lifetime of a stored response (config idempotency.ttlSeconds). */
  ttlSeconds: number;
  /** Lifetime of an in-flight lock (config idempotency.lockTtlSeconds). */
  lockTtlSeconds: number;
}

/** The subset of ioredis used here (a Cluster or a test double fits too). */
export type RedisCommands = Pick<Redis, 'set' | 'get' | 'eval'>;

const COMPLETE = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ok, r = pcall(cjson.decode, v)
if not ok or type(r) ~= 'table' or r.state ~= 'in-flight' or r.owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
return 1
`;

const RELEASE = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ok, r = pcall(cjson.decode, v)
if not ok or type(r) ~= 'table' or r.state ~= 'in-flight' or r.owner ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

const EXTEND = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ok, r = pcall(cjson.decode, v)
if not ok or type(r) ~= 'table' or r.state ~= 'in-flight' or r.owner ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
`;

/** Attempts of SET NX / GET when the record vanishes (expires) between the two commands. */
const BEGIN_ATTEMPTS = 3;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The Redis key of a scope. */
export function idempotencyRedisKey(keyPrefix: string, scope: IdempotencyScope): string {
  return `${keyPrefix}idem:${sha256Hex(scope.client)}:${sha256Hex(scope.key)}`;
}

export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #redis: RedisCommands;
  readonly #options: RedisIdempotencyOptions;

  constructor(redis: RedisCommands, options: RedisIdempotencyOptions) {
    this.#redis = redis;
    this.#options = options;
  }

  async begin(scope: IdempotencyScope, fingerprint: string, owner: string): Promise<BeginResult> {
    const key = this.#key(scope);
    const lock = JSON.stringify({ state: 'in-flight', fingerprint, owner });
    for (let attempt = 0; attempt < BEGIN_ATTEMPTS; attempt++) {
      const set = await this.#redis.set(key, lock, 'PX', this.#options.lockTtlSeconds * 1000, 'NX');
      if (set === 'OK') return { acquired: true };
      const existing = await this.#redis.get(key);
      if (existing !== null) return { acquired: false, record: parseRecord(existing) };
    }
    throw new Error('idempotency record kept vanishing between SET NX and GET');
  }

  async complete(
    scope: IdempotencyScope,
    owner: string,
    fingerprint: string,
    response: StoredResponse,
  ): Promise<boolean> {
    const done = JSON.stringify({
      state: 'done',
      fingerprint,
      status: response.status,
      headers: response.headers,
      body: response.bodyBase64,
    });
    const result = await this.#redis.eval(
      COMPLETE,
      1,
      this.#key(scope),
      owner,
      done,
      this.#options.ttlSeconds,
    );
    return result === 1;
  }

  async extend(scope: IdempotencyScope, owner: string): Promise<boolean> {
    const result = await this.#redis.eval(
      EXTEND,
      1,
      this.#key(scope),
      owner,
      this.#options.lockTtlSeconds * 1000,
    );
    return result === 1;
  }

  async release(scope: IdempotencyScope, owner: string): Promise<boolean> {
    const result = await this.#redis.eval(RELEASE, 1, this.#key(scope), owner);
    return result === 1;
  }

  #key(scope: IdempotencyScope): string {
    return idempotencyRedisKey(this.#options.keyPrefix, scope);
  }
}

/** Parses a stored record; anything unexpected is an error (never silently treated as absent). */
export function parseRecord(text: string): IdempotencyRecord {
  const value = JSON.parse(text) as Record<string, unknown>;
  if (value && typeof value === 'object' && typeof value.fingerprint === 'string') {
    if (value.state === 'in-flight' && typeof value.owner === 'string') {
      return { state: 'in-flight', fingerprint: value.fingerprint, owner: value.owner };
    }
    if (
      value.state === 'done' &&
      typeof value.status === 'number' &&
      typeof value.body === 'string' &&
      value.headers !== null &&
      typeof value.headers === 'object'
    ) {
      const headers: Record<string, string> = {};
      for (const [name, v] of Object.entries(value.headers as Record<string, unknown>)) {
        if (typeof v === 'string') headers[name] = v;
      }
      return {
        state: 'done',
        fingerprint: value.fingerprint,
        response: { status: value.status, headers, bodyBase64: value.body },
      };
    }
  }
  throw new Error('malformed idempotency record in Redis');
}

/**
 * Admin sessions (docs/architecture.md §Admin console): one kind of session whether the admin
 * signed in with an admin-scoped token or through SAML Web SSO. A session is a random 32-byte id
 * in a cookie; Redis holds the record under the id's SHA-256 only (a copy of Redis holds no usable
 * cookie), so every instance behind a load balancer knows it. It ends when unused for the idle
 * time, at its absolute expiry whatever its use, or at sign-out.
 */
import { hash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * `__Host-` (RFC 6265bis §4.1.3.2): the browser accepts it only with Secure, Path=/ and no
 * Domain, so no sibling host can plant or overwrite it. Chromium treats http://127.0.0.1 and
 * localhost as secure contexts, so the local default works over plain http.
 */
export const SESSION_COOKIE = '__Host-scim_bridge_admin';

export interface SessionIdentity {
  /** The token's client name, or the SAML NameID. */
  readonly subject: string;
  readonly via: 'token' | 'saml';
  /** The IdP's entity id when `via` is saml. */
  readonly issuer?: string;
  readonly scopes: readonly string[];
}

export interface Session extends SessionIdentity {
  /** The synchronizer token every console form carries (OWASP CSRF prevention). */
  readonly csrfToken: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** The absolute end (ms since the epoch). */
  readonly expiresAt: number;
}

export interface SessionOptions {
  readonly prefix: string;
  readonly idleSeconds: number;
  readonly maxSeconds: number;
  readonly now?: () => number;
}

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
/** A session's last use is written back at most this often (one Redis write per minute, not per page). */
const TOUCH_EVERY_MS = 60_000;

function isSession(value: unknown): value is Session {
  const v = value as Partial<Session> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.subject === 'string' &&
    (v.via === 'token' || v.via === 'saml') &&
    Array.isArray(v.scopes) &&
    typeof v.csrfToken === 'string' &&
    typeof v.lastSeenAt === 'number' &&
    typeof v.expiresAt === 'number'
  );
}

export class SessionStore {
  readonly #redis: Redis;
  readonly #o: SessionOptions;
  readonly #now: () => number;

  constructor(redis: Redis, options: SessionOptions) {
    this.#redis = redis;
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Opens a session; `maxSeconds` may shorten the absolute lifetime (an SSO session's own bound). */
  async open(identity: SessionIdentity, maxSeconds?: number): Promise<{ id: string; session: Session }> {
    const id = randomBytes(32).toString('base64url');
    const now = this.#now();
    const lifetime = Math.min(this.#o.maxSeconds, maxSeconds ?? this.#o.maxSeconds);
    const session: Session = {
      subject: identity.subject,
      via: identity.via,
      ...(identity.issuer !== undefined ? { issuer: identity.issuer } : {}),
      scopes: [...identity.scopes],
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + lifetime * 1000,
    };
    await this.#store(id, session);
    return { id, session };
  }

  /** The live session behind a cookie value, on any instance; its use moves the idle expiry on. */
  async get(id: string): Promise<Session | undefined> {
    if (!SESSION_ID.test(id)) return undefined;
    const record = await this.#redis.get(this.#key(id));
    if (record === null) return undefined;
    let session: unknown;
    try {
      session = JSON.parse(record);
    } catch {
      return undefined;
    }
    if (!isSession(session)) return undefined;
    const now = this.#now();
    if (now >= session.expiresAt || now - session.lastSeenAt >= this.#o.idleSeconds * 1000) {
      await this.end(id);
      return undefined;
    }
    if (now - session.lastSeenAt < TOUCH_EVERY_MS) return session;
    const touched = { ...session, lastSeenAt: now };
    await this.#store(id, touched);
    return touched;
  }

  async end(id: string): Promise<void> {
    if (SESSION_ID.test(id)) await this.#redis.del(this.#key(id));
  }

  /** Seconds the cookie should live: to the absolute end (the idle end is Redis's TTL). */
  cookieMaxAge(session: Session): number {
    return Math.max(1, Math.floor((session.expiresAt - this.#now()) / 1000));
  }

  async #store(id: string, session: Session): Promise<void> {
    const remaining = Math.min(this.#o.idleSeconds * 1000, session.expiresAt - session.lastSeenAt);
    await this.#redis.set(this.#key(id), JSON.stringify(session), 'PX', Math.max(1, remaining));
  }

  /** Redis holds the id's hash only. */
  #key(id: string): string {
    return `${this.#o.prefix}session:${hash('sha256', id, 'hex')}`;
  }
}

/** Secure, HttpOnly, SameSite=Strict: never readable by scripts, never sent by another site's requests. */
export function sessionCookie(value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; Secure; HttpOnly; SameSite=Strict`;
}

/** The session id a Cookie header carries, or ''. */
export function sessionIdOf(cookieHeader: string): string {
  return cookieValue(cookieHeader, SESSION_COOKIE);
}

/** One cookie's value from a Cookie header (RFC 6265 §5.4), or ''. */
export function cookieValue(cookieHeader: string, name: string): string {
  for (const pair of cookieHeader.split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return '';
}

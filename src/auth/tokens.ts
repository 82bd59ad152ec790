/**
 * Bearer tokens (RFC 6750). The configuration holds only SHA-256 hashes; a presented token is
 * hashed and compared with every configured hash in constant time, so neither the match nor
 * its position leaks through timing. Each token has scopes (auth/scopes.ts) and may expire; the
 * list can be replaced while the service runs (a configuration re-read on SIGHUP).
 */
import { hash, timingSafeEqual } from 'node:crypto';

export interface TokenEntry {
  name: string;
  /** Hex SHA-256 of the token. */
  sha256: string;
  /** What the client may do; absent means ['admin'] (the behaviour before scopes existed). */
  scopes?: readonly string[];
  /** RFC 3339 instant after which the token is refused. */
  expiresAt?: string;
  /** The client's preferred answer to a successful PATCH (over the mapping's). */
  patchResponse?: 200 | 204;
}

export interface Principal {
  /** The configured name of the token (or an assertion's NameID), the actor in logs and events. */
  name: string;
  /** The granted scopes (auth/scopes.ts). */
  scopes: readonly string[];
  /** For a token issued at the token endpoint: the IdP that vouched for the principal. */
  issuer?: string;
  patchResponse?: 200 | 204;
}

export function sha256Hex(token: string): string {
  return hash('sha256', token, 'hex');
}

export type AuthResult =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'missing' | 'malformed' | 'invalid' };

/** The token of an `Authorization: Bearer` value (RFC 6750 §2.1 b64token), or why there is none. */
export function bearerTokenOf(authorization: string | undefined): string | 'missing' | 'malformed' {
  if (!authorization) return 'missing';
  const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(authorization);
  return match?.[1] ?? 'malformed';
}

interface Compiled {
  principal: Principal;
  digest: Buffer;
  expiresAtMs: number;
}

function compile(entries: readonly TokenEntry[]): Compiled[] {
  return entries.map((e) => ({
    principal: {
      name: e.name,
      scopes: e.scopes ?? ['admin'],
      ...(e.patchResponse ? { patchResponse: e.patchResponse } : {}),
    },
    digest: Buffer.from(e.sha256, 'hex'),
    expiresAtMs: e.expiresAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(e.expiresAt),
  }));
}

export class TokenVerifier {
  #entries: Compiled[];
  readonly #now: () => number;

  constructor(entries: readonly TokenEntry[], now: () => number = Date.now) {
    this.#entries = compile(entries);
    this.#now = now;
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The configured tokens' names, scopes and expiry: never a hash (for the admin console). */
  list(): { name: string; scopes: readonly string[]; expiresAt?: Date }[] {
    return this.#entries.map((entry) => ({
      name: entry.principal.name,
      scopes: entry.principal.scopes,
      ...(Number.isFinite(entry.expiresAtMs) ? { expiresAt: new Date(entry.expiresAtMs) } : {}),
    }));
  }

  /** Puts a new token list in force at once (requests already authenticated are unaffected). */
  replace(entries: readonly TokenEntry[]): void {
    this.#entries = compile(entries);
  }

  /** Checks an Authorization header value. */
  verify(authorization: string | undefined): AuthResult {
    const token = bearerTokenOf(authorization);
    if (token === 'missing' || token === 'malformed') return { ok: false, reason: token };
    return this.verifyToken(token);
  }

  /** Checks a token already taken out of its header. */
  verifyToken(token: string): AuthResult {
    // One-shot hash: no Hash object per request (this runs on every SCIM request).
    const presented = hash('sha256', token, 'buffer');
    let found: Compiled | undefined;
    // Compare against every entry without stopping early.
    for (const entry of this.#entries) {
      if (entry.digest.length === presented.length && timingSafeEqual(entry.digest, presented) && !found) {
        found = entry;
      }
    }
    if (!found || found.expiresAtMs <= this.#now()) return { ok: false, reason: 'invalid' };
    return { ok: true, principal: found.principal };
  }
}

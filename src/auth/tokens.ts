/**
 * Bearer tokens (RFC 6750). The configuration holds only SHA-256 hashes; a presented token is
 * hashed and compared with every configured hash in constant time, so neither the match nor
 * its position leaks through timing.
 */
import { hash, timingSafeEqual } from 'node:crypto';

export interface TokenEntry {
  name: string;
  /** Hex SHA-256 of the token. */
  sha256: string;
  /** The client's preferred answer to a successful PATCH (over the mapping's). */
  patchResponse?: 200 | 204;
}

export interface Principal {
  /** The configured name of the token, used as the actor in logs and events. */
  name: string;
  patchResponse?: 200 | 204;
}

export function sha256Hex(token: string): string {
  return hash('sha256', token, 'hex');
}

export type AuthResult =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'missing' | 'malformed' | 'invalid' };

export class TokenVerifier {
  readonly #entries: { principal: Principal; digest: Buffer }[];

  constructor(entries: TokenEntry[]) {
    this.#entries = entries.map((e) => ({
      principal: { name: e.name, ...(e.patchResponse ? { patchResponse: e.patchResponse } : {}) },
      digest: Buffer.from(e.sha256, 'hex'),
    }));
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Checks an Authorization header value. */
  verify(authorization: string | undefined): AuthResult {
    if (!authorization) return { ok: false, reason: 'missing' };
    const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(authorization);
    if (!match?.[1]) return { ok: false, reason: 'malformed' };
    // One-shot hash: no Hash object per request (this runs on every SCIM request).
    const presented = hash('sha256', match[1], 'buffer');
    let found: Principal | undefined;
    // Compare against every entry without stopping early.
    for (const entry of this.#entries) {
      if (entry.digest.length === presented.length && timingSafeEqual(entry.digest, presented) && !found) {
        found = entry.principal;
      }
    }
    return found ? { ok: true, principal: found } : { ok: false, reason: 'invalid' };
  }
}

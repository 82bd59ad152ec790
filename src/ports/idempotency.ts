/**
 * The idempotency port: shared storage for `Idempotency-Key` records, so that every instance of
 * the bridge sees the same in-flight locks and stored responses.
 *
 * A record lives under one (client, key) scope and moves through two states:
 *  - `in-flight`: a request holding the lock is executing (expires after the lock TTL);
 *  - `done`: its response is stored and replayed until the record's TTL runs out.
 *
 * Every method rejects when the store cannot be reached; callers must then not execute the request,
 * because the exactly-once guarantee cannot be given.
 */

/** Who sent the key (the authenticated principal) and the key itself, as given. */
export interface IdempotencyScope {
  readonly client: string;
  readonly key: string;
}

/** A response as it is replayed: status, the headers that matter, and the exact body bytes. */
export interface StoredResponse {
  readonly status: number;
  /** Header name (as sent) -> value; only Location, ETag, Content-Type are kept. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body bytes, base64-encoded ('' for none). */
  readonly bodyBase64: string;
}

export interface InFlightRecord {
  readonly state: 'in-flight';
  readonly fingerprint: string;
  /** Random id of the request holding the lock; only it may complete or release the record. */
  readonly owner: string;
}

export interface DoneRecord {
  readonly state: 'done';
  readonly fingerprint: string;
  readonly response: StoredResponse;
}

export type IdempotencyRecord = InFlightRecord | DoneRecord;

export type BeginResult =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly record: IdempotencyRecord };

export interface IdempotencyStore {
  /**
   * Atomically takes the in-flight lock for the scope when no record exists (`acquired: true`),
   * or returns the record that is already there.
   */
  begin(scope: IdempotencyScope, fingerprint: string, owner: string): Promise<BeginResult>;
  /**
   * Replaces the owner's in-flight lock with the finished response. Returns false (and changes
   * nothing) when the lock is no longer the owner's, e.g. because it expired.
   */
  complete(
    scope: IdempotencyScope,
    owner: string,
    fingerprint: string,
    response: StoredResponse,
  ): Promise<boolean>;
  /** Renews the owner's in-flight lock for another lock TTL; false when it is no longer the owner's. */
  extend(scope: IdempotencyScope, owner: string): Promise<boolean>;
  /** Drops the owner's in-flight lock so that a retry executes again; false when it was not the owner's. */
  release(scope: IdempotencyScope, owner: string): Promise<boolean>;
}

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

/**
 * A keyed write's claim, recorded by the change journal with the write's intent
 * (docs/architecture.md §Idempotency): the hashed (client, key) scope and the request's
 * fingerprint. It lets a retry on another instance learn the write's fate after the instance
 * that ran it died before its answer was stored.
 */
export interface IdempotencyClaim {
  /** sha256(client):sha256(key), hex: neither the principal's name nor the raw key is stored. */
  readonly scopeId: string;
  readonly fingerprint: string;
}

/**
 * What is known of an earlier attempt under a claim whose lock holder is gone and whose answer
 * was never stored:
 *  - `none`: no journaled write under it (never started, refused, or known not to have happened):
 *    run the request;
 *  - `completed`: the write happened; answer as the first answer would have been;
 *  - `undecided`: the directory cannot tell yet (down): the retry gets 503 and tries again later.
 */
export type WriteFate =
  | { readonly state: 'none' }
  | {
      readonly state: 'completed';
      readonly operation: 'add' | 'modify' | 'delete';
      readonly resourceType: string;
      readonly resourceId: string;
    }
  | { readonly state: 'undecided' };

export interface WriteFates {
  /** Settles the claim's open intent if there is one (as journal recovery would) and says what happened. */
  fateOf(claim: IdempotencyClaim): Promise<WriteFate>;
}

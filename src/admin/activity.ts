/**
 * The last provisioning actions, for the console's overview: one record per SCIM write (client,
 * operation, resource type and id, status, scimType and detail of a refusal, the LDAP result code
 * behind it) in a capped Redis stream shared by every instance. Never a body, a header or a token.
 * The journal (jobs/journal.ts) keeps intents only until they are settled, so it has no history.
 */
import type { Redis } from 'ioredis';

export interface ActivityRecord {
  /** ISO 8601. */
  readonly at: string;
  readonly client: string;
  readonly method: string;
  /** The endpoint's resource type as in the path ('Users', 'Groups', 'Bulk'). */
  readonly resourceType: string;
  readonly resourceId?: string;
  readonly status: number;
  readonly scimType?: string;
  readonly detail?: string;
  /** The LDAP result code (RFC 4511 §4.1.9) when the directory refused. */
  readonly ldapResultCode?: number;
  readonly requestId: string;
}

/** Longest refusal detail kept: a detail may quote client input. */
const MAX_DETAIL = 300;

export class ActivityLog {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #maxLength: number;

  constructor(redis: Redis, options: { key: string; maxLength: number }) {
    this.#redis = redis;
    this.#key = options.key;
    this.#maxLength = options.maxLength;
  }

  /** Adds a record; rejects when Redis cannot take it (callers do not wait on it). */
  async record(record: ActivityRecord): Promise<void> {
    const detail = record.detail?.slice(0, MAX_DETAIL);
    const stored = { ...record, ...(detail !== undefined ? { detail } : {}) };
    await this.#redis.xadd(
      this.#key,
      'MAXLEN',
      '~',
      String(this.#maxLength),
      '*',
      'r',
      JSON.stringify(stored),
    );
  }

  /** The newest `count` records, newest first. */
  async recent(count: number): Promise<ActivityRecord[]> {
    const rows = await this.#redis.xrevrange(this.#key, '+', '-', 'COUNT', count);
    return rows.flatMap(([, fields]) => {
      try {
        return fields[0] === 'r' && fields[1] !== undefined ? [JSON.parse(fields[1]) as ActivityRecord] : [];
      } catch {
        return [];
      }
    });
  }
}

/** The LDAP result code somewhere in an error's cause chain (ldapts' ResultCodeError.code). */
export function ldapResultCodeOf(error: unknown): number | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'number' && Number.isInteger(code)) return code;
    current = current.cause;
  }
  return undefined;
}

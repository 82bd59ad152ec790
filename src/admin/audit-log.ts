/**
 * The console's audit log (docs/architecture.md §Admin console): every POST, sign-in, sign-out and
 * refusal, with who, what, when, from where and the outcome, in a capped Redis stream shared by
 * every instance, and as a log line. Callers pass only what may be shown: never a token, a
 * password, a session id or a form body.
 */
import type { Redis } from 'ioredis';

export interface AuditEntry {
  /** The signed-in subject, or 'anonymous'. */
  readonly who: string;
  /** 'token', 'saml' or '-' before sign-in. */
  readonly via: string;
  /** The route, e.g. `POST /admin/sign-in`. */
  readonly action: string;
  /** The route's own audit detail (AdminRoute.audit), or the refusal's reason. */
  readonly detail: Readonly<Record<string, string>>;
  /** The client's address. */
  readonly from: string;
  /** 'ok', 'refused' or 'failed'. */
  readonly outcome: 'ok' | 'refused' | 'failed';
  readonly status: number;
  readonly requestId: string;
}

export interface AuditRecord extends AuditEntry {
  /** ISO 8601 time of the record. */
  readonly at: string;
}

export interface AuditLogOptions {
  readonly key: string;
  readonly maxLength: number;
  /** The log line for each record (pino). */
  readonly log: (record: AuditRecord) => void;
  readonly warn: (message: string, error: unknown) => void;
}

/** Longest value kept per detail field: a record never carries a pasted document. */
const MAX_DETAIL = 200;

export class AuditLog {
  readonly #redis: Redis;
  readonly #o: AuditLogOptions;

  constructor(redis: Redis, options: AuditLogOptions) {
    this.#redis = redis;
    this.#o = options;
  }

  /** Records an entry; a Redis failure is logged, never hides the action's own answer. */
  async record(entry: AuditEntry): Promise<void> {
    const detail = Object.fromEntries(
      Object.entries(entry.detail).map(([k, v]) => [
        k,
        v.length > MAX_DETAIL ? `${v.slice(0, MAX_DETAIL)}…` : v,
      ]),
    );
    const record: AuditRecord = { ...entry, detail, at: new Date().toISOString() };
    this.#o.log(record);
    try {
      await this.#redis.xadd(
        this.#o.key,
        'MAXLEN',
        '~',
        String(this.#o.maxLength),
        '*',
        'record',
        JSON.stringify(record),
      );
    } catch (error) {
      this.#o.warn('audit record not stored in Redis (it is in the log)', error);
    }
  }

  /** The newest records first. */
  async recent(count: number): Promise<AuditRecord[]> {
    const rows = await this.#redis.xrevrange(this.#o.key, '+', '-', 'COUNT', count);
    return rows.flatMap(([, fields]) => {
      const text = fields[1];
      if (fields[0] !== 'record' || text === undefined) return [];
      try {
        return [JSON.parse(text) as AuditRecord];
      } catch {
        return [];
      }
    });
  }
}

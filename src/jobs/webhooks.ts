/**
 * One webhook delivery: POST the event as JSON, signed with HMAC-SHA256 over `timestamp.body`,
 * and the classification of the answer (docs/architecture.md §Writes and events: 4xx -> no retry; 408/429/5xx/timeouts -> backoff).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ChangeEvent } from '../ports/events.ts';

export const EVENT_ID_HEADER = 'X-Scim-Bridge-Event-Id';
export const TIMESTAMP_HEADER = 'X-Scim-Bridge-Timestamp';
export const SIGNATURE_HEADER = 'X-Scim-Bridge-Signature';

/** `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`; timestamp in Unix seconds. */
export function sign(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does: recompute the signature over the raw body and compare in constant time,
 * and refuse timestamps further than `toleranceSeconds` from now (replayed captures).
 */
export function verifySignature(
  secret: string,
  timestamp: string,
  body: string,
  signature: string,
  toleranceSeconds = 300,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds)
    return false;
  const expected = Buffer.from(sign(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** A failed delivery. `permanent`: retrying cannot help (dead-letter now). */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  readonly status: number | undefined;
  readonly permanent: boolean;
  /** The receiver's Retry-After, in ms. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { status?: number; permanent: boolean; retryAfterMs?: number }) {
    super(message);
    this.status = options.status;
    this.permanent = options.permanent;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Retry-After: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface WebhookTarget {
  url: string;
  secret: string;
  timeoutMs: number;
}

/** POSTs one event; resolves on 2xx, throws DeliveryError otherwise. */
export async function deliver(target: WebhookTarget, event: ChangeEvent, attempt: number): Promise<number> {
  const body = JSON.stringify(event);
  const timestamp = String(Math.floor(Date.now() / 1000));
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(target.timeoutMs),
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'scim-ldap-bridge',
        [EVENT_ID_HEADER]: event.eventId,
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: sign(target.secret, timestamp, body),
        'X-Scim-Bridge-Attempt': String(attempt),
      },
      body,
    });
  } catch (error) {
    throw unreachable(error, target.timeoutMs);
  }
  await response.body?.cancel().catch(() => undefined);
  const status = response.status;
  if (status >= 200 && status < 300) return status;
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    throw new DeliveryError(`receiver answered ${status}`, {
      status,
      permanent: false,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  // Other 4xx (and 1xx/3xx: redirects are not followed) will not change by retrying.
  throw new DeliveryError(`receiver answered ${status}; not retried`, { status, permanent: true });
}

/**
 * Delay before retry number `attemptsMade` (1 = first retry): exponential, with "equal jitter"
 * (half fixed, half random) so synchronized failures spread out; a Retry-After wins, capped.
 */
export function backoffDelay(
  attemptsMade: number,
  baseMs: number,
  maxMs: number,
  error?: Error,
  random: () => number = Math.random,
): number {
  if (error instanceof DeliveryError && error.retryAfterMs !== undefined)
    return Math.min(maxMs, error.retryAfterMs);
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/** A request that got no HTTP answer (timed out, refused, reset): a retryable delivery failure. */
export function unreachable(error: unknown, timeoutMs: number): DeliveryError {
  const cause = error as Error;
  const timedOut = cause.name === 'TimeoutError' || cause.name === 'AbortError';
  return new DeliveryError(
    timedOut ? `no answer within ${timeoutMs} ms` : `request failed: ${cause.message}`,
    {
      permanent: false,
    },
  );
}

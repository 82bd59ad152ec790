/**
 * `Idempotency-Key` on SCIM writes (POST, PUT, PATCH, DELETE): the first request with a key
 * executes under an in-flight lock shared by every instance; a repeat with the same key and the
 * same request gets the stored response again, byte for byte, with `Idempotency-Replayed: true`,
 * without reaching the directory.
 *
 *  - same key, different request (method, path or canonical body)  -> 422
 *  - same key while the first request still runs -> waits for it (bounded), then replays; 409 with
 *    Retry-After when it does not finish in time
 *  - store unreachable -> 503 with Retry-After, and the request is not executed
 *  - the key's lock holder died before storing its answer (the lock is taken afresh) -> the
 *    journal tells the write's fate (`fates`): completed -> the route answers as the first answer
 *    would have been; not journaled or not done -> executed; cannot tell yet -> 503
 *  - 2xx and 4xx responses are stored; 5xx (and anything unexpected) release the lock so a retry
 *    executes again
 * Requests without the header are not affected, even when the store is down.
 *
 * Keys are scoped per client: the authenticated principal's name, so this runs after
 * authentication and after JSON body parsing (the body is part of the fingerprint).
 *
 * The store is the port `IdempotencyStore` (src/http may import the ports' types, never an
 * implementation); main.ts passes the Redis implementation of it.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type {
  BeginResult,
  IdempotencyClaim,
  IdempotencyScope,
  IdempotencyStore,
  StoredResponse,
  WriteFate,
  WriteFates,
} from '../../ports/idempotency.ts';
import { ScimError } from '../../scim/errors.ts';
import { SCIM_CONTENT_TYPE } from './errors.ts';

export interface IdempotencyOptions {
  store: IdempotencyStore;
  /** Lifetime of the in-flight lock; a duplicate never waits longer than this. */
  lockTtlSeconds: number;
  /** How long a concurrent duplicate waits for the first request's result. Default 5 s. */
  maxWaitMs?: number;
  /**
   * The change journal's record of keyed writes (docs/architecture.md §Idempotency): when the lock
   * is taken afresh, an earlier attempt whose instance died may have written already. Absent
   * (events off): such a retry runs again.
   */
  fates?: WriteFates;
  /** Called when the store fails after the request executed (the response still goes out). */
  onStoreError?: (error: unknown, ctx: Context) => void;
}

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const REPLAYED_HEADER = 'Idempotency-Replayed';
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Response headers kept with a stored response. */
const KEPT_HEADERS = ['Location', 'ETag', 'Content-Type'];
const DEFAULT_MAX_WAIT_MS = 5_000;
const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 200;
const RETRY_AFTER_SECONDS = 1;
/** 1–255 visible ASCII characters (0x21–0x7E). */
const KEY_SYNTAX = /^[\x21-\x7e]{1,255}$/;

/**
 * The header's value, validated: 1–255 visible ASCII characters. Throws `400 invalidValue`
 * otherwise (empty, too long, spaces, control or non-ASCII characters, or the header sent twice,
 * which Node joins with ", ").
 */
export function parseIdempotencyKey(raw: string | readonly string[]): string {
  const value = typeof raw === 'string' ? raw : raw.join(', ');
  if (!KEY_SYNTAX.test(value)) {
    throw ScimError.invalidValue(
      `${IDEMPOTENCY_HEADER} must be 1 to 255 visible ASCII characters (no spaces), sent once`,
    );
  }
  return value;
}

/**
 * JSON text with object keys sorted (by UTF-16 code unit) and no insignificant whitespace, so
 * bodies that differ only in layout or key order canonicalise to the same text. `undefined`
 * (no body) is ''.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return '';
  return canonical(value);
}

/**
 * Bodies are bounded in depth when parsed (limits.jsonMaxDepth, at most 1,000); the walk keeps its
 * own bound so that no value reaching it can exhaust the stack (issue 15: 2,300 levels did).
 */
const CANONICAL_MAX_DEPTH = 1000;

function canonical(value: unknown, depth = 0): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (depth >= CANONICAL_MAX_DEPTH)
    throw ScimError.invalidSyntax(`request body nests deeper than ${CANONICAL_MAX_DEPTH} levels`);
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : canonical(v, depth + 1))).join(',')}]`;
  const entries = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k], depth + 1)}`);
  return `{${entries.join(',')}}`;
}

/** sha256 hex over method, path (with query string, if any) and the canonical body. */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method.toUpperCase()}\n${path}\n`, 'utf8')
    .update(canonicalJson(body), 'utf8')
    .digest('hex');
}

/** The options with the wait bound settled (never longer than the lock lives). */
type Settings = IdempotencyOptions & { maxWaitMs: number };

export function idempotency(options: IdempotencyOptions) {
  const settings: Settings = {
    ...options,
    maxWaitMs: Math.min(options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS, options.lockTtlSeconds * 1000),
  };
  // Reads, and writes without the header, pass straight through (no async frame of their own).
  return (ctx: Context, next: Next): Promise<void> => {
    const raw = ctx.headers['idempotency-key'];
    return !WRITE_METHODS.has(ctx.method) || raw === undefined
      ? next()
      : idempotent(settings, ctx, next, raw);
  };
}

/** One keyed request: who asks, under which key, for what, and this instance's lock owner id. */
interface Claim {
  scope: IdempotencyScope;
  fingerprint: string;
  owner: string;
}

/** The three steps: fingerprint the request, begin (or replay the stored answer), execute and store. */
async function idempotent(
  settings: Settings,
  ctx: Context,
  next: Next,
  raw: string | string[],
): Promise<void> {
  const claim = claimOf(ctx, raw);
  const turn = await beginOrWait(settings, claim);
  if (turn !== 'acquired') return replay(ctx, turn);
  const journalClaim: IdempotencyClaim = { scopeId: scopeIdOf(claim.scope), fingerprint: claim.fingerprint };
  const fate = await fateOf(settings, claim, journalClaim);
  // The routes journal the claim with the write, and answer a completed one without writing again.
  ctx.state.idempotencyClaim = journalClaim;
  if (fate.state === 'completed') ctx.state.completedWrite = fate;
  await executeAndStore(settings, ctx, next, claim);
}

/** sha256(client):sha256(key): the scope as the journal keeps it (no names, no raw keys). */
export function scopeIdOf(scope: IdempotencyScope): string {
  const hash = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
  return `${hash(scope.client)}:${hash(scope.key)}`;
}

/**
 * The fate of an earlier attempt under this key whose lock holder is gone (the lock was taken
 * afresh). Undecided, or the journal unreachable: the lock is released and the client told to
 * retry; the request is not executed.
 */
async function fateOf(settings: Settings, claim: Claim, journalClaim: IdempotencyClaim): Promise<WriteFate> {
  if (!settings.fates) return { state: 'none' };
  let fate: WriteFate | undefined;
  try {
    fate = await settings.fates.fateOf(journalClaim);
  } catch {
    fate = undefined;
  }
  if (fate && fate.state !== 'undecided') return fate;
  await settings.store.release(claim.scope, claim.owner).catch(() => undefined);
  throw ScimError.unavailable(
    `an earlier attempt with this ${IDEMPOTENCY_HEADER} may have written, and its outcome cannot be told yet (the directory or the change journal does not answer); the request was not executed; retry later with the same key`,
    RETRY_AFTER_SECONDS,
  );
}

/** Step 1: the key (validated), scoped to the authenticated client, and the request's fingerprint. */
function claimOf(ctx: Context, raw: string | string[]): Claim {
  const key = parseIdempotencyKey(raw);
  const client = (ctx.state.principal as { name?: unknown } | undefined)?.name;
  if (typeof client !== 'string') throw new Error('idempotency runs after authentication');
  const path = ctx.querystring ? `${ctx.path}?${ctx.querystring}` : ctx.path;
  return {
    scope: { client, key },
    fingerprint: requestFingerprint(ctx.method, path, ctx.state.body),
    owner: randomUUID(),
  };
}

/**
 * Step 2: take the in-flight lock ('acquired'), or get the stored response of the same request to
 * replay. A different request under the key is 422; a duplicate still running is waited for until
 * `maxWaitMs`, then 409 with Retry-After.
 */
async function beginOrWait(settings: Settings, claim: Claim): Promise<'acquired' | StoredResponse> {
  const deadline = Date.now() + settings.maxWaitMs;
  let pause = FIRST_POLL_MS;
  // Bounded by the deadline: each turn either returns, throws, or sleeps until closer to it.
  for (;;) {
    const begun = await begin(settings.store, claim);
    if (begun.acquired) return 'acquired';
    const { record } = begun;
    if (record.fingerprint !== claim.fingerprint) {
      throw ScimError.unprocessable(
        `${IDEMPOTENCY_HEADER} was already used for a different request (method, path or body differ); use a new key for a new request`,
      );
    }
    if (record.state === 'done') return record.response;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new ScimError(
        409,
        `a request with this ${IDEMPOTENCY_HEADER} is still in progress; retry later with the same key`,
        undefined,
        { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      );
    }
    await sleep(Math.min(pause, left));
    pause = Math.min(pause * 2, MAX_POLL_MS);
  }
}

/** The store unreachable before execution: 503, and the request is not executed. */
async function begin(store: IdempotencyStore, claim: Claim): Promise<BeginResult> {
  try {
    return await store.begin(claim.scope, claim.fingerprint, claim.owner);
  } catch {
    throw ScimError.unavailable(
      `the idempotency store is unavailable, so the request was not executed; retry later with the same ${IDEMPOTENCY_HEADER}`,
      RETRY_AFTER_SECONDS,
    );
  }
}

/**
 * Step 3: run the request under the lock and store its response (2xx, 4xx), or release the lock
 * (5xx, anything unexpected) so a retry executes again.
 */
async function executeAndStore(
  settings: IdempotencyOptions,
  ctx: Context,
  next: Next,
  claim: Claim,
): Promise<void> {
  const { store } = settings;
  const { scope, owner, fingerprint } = claim;
  // Renew the lock while the request runs, so a slow request is not executed a second time by a
  // duplicate that finds the lock expired. Failures here only mean the lock may lapse.
  const renew = setInterval(
    () => void store.extend(scope, owner).catch(() => undefined),
    Math.max(100, (settings.lockTtlSeconds * 1000) / 3),
  );
  try {
    await next();
  } catch (error) {
    clearInterval(renew);
    const clientError = asClientError(error);
    if (clientError)
      await settle(settings, ctx, store.complete(scope, owner, fingerprint, errorResponse(clientError)));
    else await settle(settings, ctx, store.release(scope, owner));
    throw error;
  }
  clearInterval(renew);
  const response = ctx.status < 500 ? capture(ctx) : undefined;
  if (response) await settle(settings, ctx, store.complete(scope, owner, fingerprint, response));
  else await settle(settings, ctx, store.release(scope, owner));
}

/** A store failure after execution: the response still goes out; the lock expires on its own. */
async function settle(settings: IdempotencyOptions, ctx: Context, done: Promise<boolean>): Promise<void> {
  try {
    await done;
  } catch (error) {
    settings.onStoreError?.(error, ctx);
  }
}

function asClientError(error: unknown): ScimError | undefined {
  if (error instanceof ScimError) return error.status < 500 ? error : undefined;
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ScimError(status, (error as Error).message);
  }
  return undefined;
}

/** The bytes the outer SCIM error handler will send for this error. */
function errorResponse(error: ScimError): StoredResponse {
  return {
    status: error.status,
    headers: { 'Content-Type': SCIM_CONTENT_TYPE },
    bodyBase64: Buffer.from(JSON.stringify(error.toBody()), 'utf8').toString('base64'),
  };
}

/** The response as it will be sent, or undefined when it cannot be stored (a stream). */
function capture(ctx: Context): StoredResponse | undefined {
  const body: unknown = ctx.body;
  let bytes: Buffer;
  if (body === undefined || body === null) bytes = Buffer.alloc(0);
  else if (typeof body === 'string') bytes = Buffer.from(body, 'utf8');
  else if (Buffer.isBuffer(body)) bytes = body;
  else if (typeof (body as { pipe?: unknown }).pipe === 'function') return undefined;
  else bytes = Buffer.from(JSON.stringify(body), 'utf8');
  const headers: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = ctx.response.get(name);
    if (typeof value === 'string' && value !== '') headers[name] = value;
  }
  return { status: ctx.status, headers, bodyBase64: bytes.toString('base64') };
}

function replay(ctx: Context, response: StoredResponse): void {
  ctx.status = response.status;
  for (const [name, value] of Object.entries(response.headers)) ctx.set(name, value);
  ctx.set(REPLAYED_HEADER, 'true');
  ctx.body =
    response.bodyBase64 === '' && [204, 205, 304].includes(response.status)
      ? null
      : Buffer.from(response.bodyBase64, 'base64');
  ctx.state.routeName = `${ctx.method} (idempotent replay)`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

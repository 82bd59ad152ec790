/**
 * One deadline per request (docs/architecture.md §Deadlines): the HTTP layer opens it, and every
 * directory and Redis call made while handling the request is bounded by what is left of it. It
 * travels with the request's async context (AsyncLocalStorage), so the ports keep their shapes
 * and a call made outside any request (start-up, workers) has no deadline.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

interface Deadline {
  /** performance.now() at which the request's time is up. */
  readonly at: number;
}

const current = new AsyncLocalStorage<Deadline>();

/**
 * The request ran out of time. `requestSent` says whether the operation cut short had already
 * gone out: when false, nothing was done (a write may be reported as not performed).
 */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
  readonly requestSent: boolean;
  constructor(what: string, requestSent: boolean) {
    super(`the request's deadline passed ${requestSent ? 'during' : 'before'} ${what}`);
    this.requestSent = requestSent;
  }
}

/** Runs `work` with a deadline `ms` from now; calls inside see it through remainingMs(). */
export function withDeadline<T>(ms: number, work: () => Promise<T>): Promise<T> {
  return current.run({ at: performance.now() + ms }, work);
}

/** Milliseconds left of the current request's deadline; undefined outside a request. */
export function remainingMs(): number | undefined {
  const deadline = current.getStore();
  return deadline === undefined ? undefined : deadline.at - performance.now();
}

/** Throws DeadlineExceededError (nothing sent) when the current deadline has passed. */
export function checkDeadline(what: string): void {
  const left = remainingMs();
  if (left !== undefined && left <= 0) throw new DeadlineExceededError(what, false);
}

/**
 * `operation` (already started) bounded by the current deadline: past it, DeadlineExceededError
 * (sent) while the operation itself goes on in the background; its late outcome is dropped.
 */
export function bounded<T>(operation: Promise<T>, what: string): Promise<T> {
  const left = remainingMs();
  if (left === undefined) return operation;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(what, true)), Math.max(0, left));
  });
  operation.catch(() => undefined);
  return Promise.race([operation, expired]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms`, or rejects at once when the current deadline would pass first. */
export async function pauseWithin(ms: number, what: string): Promise<void> {
  const left = remainingMs();
  if (left !== undefined && left <= ms) throw new DeadlineExceededError(what, false);
  await new Promise((resolve) => setTimeout(resolve, ms));
}

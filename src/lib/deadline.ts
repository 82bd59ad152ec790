/**
 * One deadline per request (docs/architecture.md §Deadlines): the HTTP layer opens it, and every
 * directory call made while handling the request is bounded by what is left of it. It is a plain
 * value, `deadlineAt` (a performance.now() instant), passed explicitly: in the services'
 * RequestContext, then in the Directory port's request objects. Explicit rather than carried by
 * AsyncLocalStorage, whose promise hooks cost every promise of every request (issue 17, measured).
 * A call made outside any request (start-up, workers, the feed) has no deadline: undefined.
 */

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

/** The deadline `ms` from now, as a performance.now() instant. */
export function deadlineIn(ms: number): number {
  return performance.now() + ms;
}

/** Milliseconds left before `deadlineAt`; undefined when there is no deadline. */
export function remainingMs(deadlineAt: number | undefined): number | undefined {
  return deadlineAt === undefined ? undefined : deadlineAt - performance.now();
}

/** Throws DeadlineExceededError (nothing sent) when `deadlineAt` has passed. */
export function checkDeadline(deadlineAt: number | undefined, what: string): void {
  if (deadlineAt !== undefined && performance.now() >= deadlineAt) {
    throw new DeadlineExceededError(what, false);
  }
}

/**
 * `operation` (already started) bounded by `deadlineAt`: past it, DeadlineExceededError (sent)
 * while the operation itself goes on in the background; its late outcome is dropped. No timer is
 * armed when the operation is bounded anyway before the deadline (`boundedWithinMs`: its own
 * timeout, e.g. ldapts' per-operation timeout), which is the common case of a request's calls.
 */
export function bounded<T>(
  operation: Promise<T>,
  deadlineAt: number | undefined,
  what: string,
  boundedWithinMs = Number.POSITIVE_INFINITY,
): Promise<T> {
  const left = remainingMs(deadlineAt);
  if (left === undefined || left > boundedWithinMs) return operation;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(what, true)), Math.max(0, left));
  });
  operation.catch(() => undefined);
  return Promise.race([operation, expired]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms`, or rejects at once when `deadlineAt` would pass first. */
export async function pauseWithin(ms: number, deadlineAt: number | undefined, what: string): Promise<void> {
  const left = remainingMs(deadlineAt);
  if (left !== undefined && left <= ms) throw new DeadlineExceededError(what, false);
  await new Promise((resolve) => setTimeout(resolve, ms));
}

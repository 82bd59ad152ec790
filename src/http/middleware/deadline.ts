/**
 * One deadline per request (server.requestTimeoutMs; docs/architecture.md §Deadlines), set as
 * `ctx.state.deadlineAt` (lib/deadline.ts): the routes put it in the services' RequestContext, so
 * every directory call made for the request sees what is left of it and does not start once it
 * has passed. At the deadline the client gets 503 with Retry-After
 * (RFC 7644 §3.12, RFC 9110 §10.2.3) whatever the handler is still waiting for.
 */
import type { Context, Next } from 'koa';
import { deadlineIn } from '../../lib/deadline.ts';
import { ScimError } from '../../scim/errors.ts';
import { RETRY_AFTER_SECONDS } from '../../services/errors.ts';

export interface DeadlineOptions {
  timeoutMs: number;
  /** Told of every request cut off at its deadline (metrics). */
  onExpired?: (ctx: Context) => void;
}

export function requestDeadline(options: DeadlineOptions) {
  return function deadline(ctx: Context, next: Next): Promise<void> {
    ctx.state.deadlineAt = deadlineIn(options.timeoutMs);
    // One promise settled by whichever comes first, the handler or the timer (cheaper per request
    // than Promise.race over a timer promise). Past the deadline the handler may still settle;
    // its outcome is no longer the answer.
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        options.onExpired?.(ctx);
        reject(
          ScimError.unavailable(
            `the request did not complete within ${options.timeoutMs} ms; retry later`,
            RETRY_AFTER_SECONDS,
          ),
        );
      }, options.timeoutMs);
      const settle = () => clearTimeout(timer);
      next().then(
        () => {
          settle();
          resolve();
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  };
}

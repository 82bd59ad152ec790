/**
 * How many token sign-ins one client IP address may try (docs/architecture.md §Admin console):
 * a fixed window counted in Redis for every instance (rate-limiter-flexible, like the SCIM rate
 * limits in http/middleware/rate-limit.ts), counted in memory per instance while Redis fails.
 * Every token tried counts, good or bad: a guesser learns nothing from which ones were refused.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export interface SignInLimitOptions {
  readonly keyPrefix: string;
  /** Attempts per client IP address per window. */
  readonly attempts: number;
  readonly windowSeconds: number;
}

export class SignInLimit {
  readonly #limiter: RateLimiterRedis;

  constructor(redis: Redis, options: SignInLimitOptions) {
    const { attempts: points, windowSeconds: duration } = options;
    this.#limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${options.keyPrefix}ratelimit:admin-sign-in`,
      points,
      duration,
      insuranceLimiter: new RateLimiterMemory({ points, duration }),
    });
  }

  /** Counts an attempt from `address`: undefined when it may go on, else the seconds to wait. */
  async take(address: string): Promise<number | undefined> {
    try {
      await this.#limiter.consume(address === '' ? 'unknown' : address);
      return undefined;
    } catch (error) {
      if (error instanceof RateLimiterRes) return Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      // Neither store could count (the in-memory one always can): let the attempt go on.
      return undefined;
    }
  }
}

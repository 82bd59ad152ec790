/**
 * Load shedding (docs/architecture.md §Back-pressure): while requests in flight or the event
 * loop's lag pass their bounds, a new request gets 503 with Retry-After at once, before any
 * directory or Redis work; /ready reports it. The operational endpoints (/health, /ready,
 * /metrics) are never shed. Also the drain switch: once draining, /ready is 503 and every answer
 * asks the client to close its connection.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Context, Next } from 'koa';
import { ScimError } from '../../scim/errors.ts';

/** How often the event-loop delay is read (and its window restarted). */
const LAG_WINDOW_MS = 500;
const SHED_RETRY_AFTER_SECONDS = 1;

export interface SheddingOptions {
  /** 0: no bound. */
  maxInFlight: number;
  /** 0: not watched. */
  maxEventLoopLagMs: number;
}

export class LoadGauge {
  readonly #options: SheddingOptions;
  #inFlight = 0;
  #lagMs = 0;
  #draining = false;
  readonly #stopWatching: () => void;

  constructor(options: SheddingOptions) {
    this.#options = options;
    this.#stopWatching = options.maxEventLoopLagMs > 0 ? this.#watchLag() : () => undefined;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Why new requests are refused now; undefined when they are served. */
  overloaded(): string | undefined {
    const { maxInFlight, maxEventLoopLagMs } = this.#options;
    if (maxInFlight > 0 && this.#inFlight >= maxInFlight) {
      return `${this.#inFlight} requests in flight (limits.maxInFlightRequests ${maxInFlight})`;
    }
    if (maxEventLoopLagMs > 0 && this.#lagMs > maxEventLoopLagMs) {
      return `event-loop lag ${Math.round(this.#lagMs)} ms (limits.maxEventLoopLagMs ${maxEventLoopLagMs})`;
    }
    return undefined;
  }

  /** Stops taking work: /ready answers 503 from now on. */
  drain(): void {
    this.#draining = true;
  }

  /**
   * Resolves once no request has been in flight for `quietMs`, or after `timeoutMs`; true when
   * none was left.
   */
  async settled(timeoutMs: number, quietMs = 0): Promise<boolean> {
    const until = performance.now() + timeoutMs;
    let quietSince = performance.now();
    while (performance.now() < until) {
      if (this.#inFlight > 0) quietSince = performance.now();
      else if (performance.now() - quietSince >= quietMs) return true;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.#inFlight === 0;
  }

  close(): void {
    this.#stopWatching();
  }

  /** Counts every request in flight; sheds new ones (not the operational endpoints) while overloaded. */
  middleware(operational: (path: string) => boolean) {
    return async (ctx: Context, next: Next): Promise<void> => {
      if (this.#draining) ctx.set('Connection', 'close');
      if (!operational(ctx.path)) {
        const why = this.overloaded();
        if (why) {
          throw ScimError.unavailable(
            `the service is overloaded (${why}); retry later`,
            SHED_RETRY_AFTER_SECONDS,
          );
        }
      }
      this.#inFlight++;
      try {
        await next();
      } finally {
        this.#inFlight--;
      }
    };
  }

  #watchLag(): () => void {
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    const timer = setInterval(() => {
      // The worst delay in the last window: a loop blocked once for long is overloaded now.
      this.#lagMs = histogram.max / 1e6;
      histogram.reset();
    }, LAG_WINDOW_MS);
    timer.unref();
    return () => {
      clearInterval(timer);
      histogram.disable();
    };
  }
}

/**
 * Rate limits per client, and per client and route family, shared by every instance through
 * Redis (rate-limiter-flexible, fixed windows). Over a limit: 429 with Retry-After and a SCIM
 * error body (RFC 6585 §4, RFC 7644 §3.12). When Redis fails or does not answer within
 * STORE_WAIT_MS, each instance counts in memory instead (the limit then holds per instance):
 * a Redis outage must not take reads down with it.
 */
import type { Context, Next } from 'koa';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { ScimError } from '../../scim/errors.ts';

/** How long a request waits for Redis's count before the in-memory count decides. */
const STORE_WAIT_MS = 250;

export interface RateLimitOptions {
  /** An ioredis client (kept opaque: the http layer only hands it to the limiter). */
  redis: unknown;
  keyPrefix: string;
  windowSeconds: number;
  /** Requests per window per client; 0: no limit. */
  perClient: number;
  /** Requests per window per client and route family (`GET Users`); 0: no limit. */
  perRoute: number;
  basePath: string;
}

interface Limit {
  limiter: RateLimiterAbstract;
  fallback: RateLimiterMemory;
  key: (ctx: Context, client: string) => string;
  what: string;
}

export function rateLimit(options: RateLimitOptions) {
  const limits: Limit[] = [];
  const make = (points: number, name: string, key: Limit['key'], what: string) => {
    if (points <= 0) return;
    const fallback = new RateLimiterMemory({ points, duration: options.windowSeconds });
    const limiter = new RateLimiterRedis({
      storeClient: options.redis,
      keyPrefix: `${options.keyPrefix}ratelimit:${name}`,
      points,
      duration: options.windowSeconds,
      insuranceLimiter: fallback,
    });
    limits.push({ limiter, fallback, key, what });
  };
  make(options.perClient, 'client', (_, client) => client, `${options.perClient} requests`);
  make(
    options.perRoute,
    'route',
    (ctx, client) => `${client}|${ctx.method} ${routeFamily(ctx.path, options.basePath)}`,
    `${options.perRoute} requests to this endpoint`,
  );

  return async function limitRate(ctx: Context, next: Next): Promise<void> {
    const client = (ctx.state.principal as { name?: unknown } | undefined)?.name;
    if (limits.length === 0 || typeof client !== 'string') return next();
    for (const limit of limits) {
      const refused = await consume(limit, limit.key(ctx, client));
      if (refused) {
        const seconds = Math.max(1, Math.ceil(refused.msBeforeNext / 1000));
        throw new ScimError(
          429,
          `rate limit: at most ${limit.what} per ${options.windowSeconds} s for this client; retry after ${seconds} s`,
          undefined,
          { 'Retry-After': String(seconds) },
        );
      }
    }
    return next();
  };
}

/** The refusal when over the limit; undefined when the request may go on. */
async function consume(limit: Limit, key: string): Promise<RateLimiterRes | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const slow = new Promise<'slow'>((resolve) => {
    timer = setTimeout(() => resolve('slow'), STORE_WAIT_MS);
  });
  try {
    const counted = limit.limiter.consume(key);
    counted.catch(() => undefined);
    const outcome = await Promise.race([counted, slow]);
    if (outcome === 'slow') await limit.fallback.consume(key);
    return undefined;
  } catch (error) {
    if (error instanceof RateLimiterRes) return error;
    // Neither store could count (should not happen with the in-memory one): let the request go.
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** The first path segment under the SCIM base (`Users` for /scim/v2/Users/123): ids are not keys. */
function routeFamily(path: string, basePath: string): string {
  const rest = path.slice(basePath.length).replace(/^\/+/, '');
  return rest.split('/')[0] ?? '';
}

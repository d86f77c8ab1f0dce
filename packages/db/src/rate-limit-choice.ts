import type pg from 'pg';
import type { RateLimitStoreKind } from '@tasklane/core';
import type { RateLimiter, RateLimiterOptions } from './rate-limit.ts';
import { PgRateLimiter } from './rate-limit-postgres.ts';

export interface RateLimiterChoice extends RateLimiterOptions {
  kind: RateLimitStoreKind;
  /** The task database's pool (the Postgres store shares it). */
  pool: pg.Pool;
  redisUrl?: string | undefined;
}

/**
 * The limiter that `RATE_LIMIT_STORE` names, like the event bus choice. A Redis limiter that
 * cannot connect at start is still returned: it keeps reconnecting, and until then its calls fail
 * fast, which the API treats as "let the request through".
 */
export async function createRateLimiter({ kind, pool, redisUrl, ...options }: RateLimiterChoice): Promise<RateLimiter> {
  if (kind === 'redis') {
    if (!redisUrl) throw new TypeError('createRateLimiter: RATE_LIMIT_STORE=redis needs REDIS_URL');
    // Loaded here so that the limits entry does not need ioredis unless Redis is chosen.
    const { RedisRateLimiter } = await import('./rate-limit-redis.ts');
    const limiter = new RedisRateLimiter({ url: redisUrl, ...options });
    await limiter.start().catch((error: Error) => options.onError?.(error));
    return limiter;
  }
  return new PgRateLimiter(pool, options);
}

import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../src/index.ts';
import { PgRateLimiter } from '../src/limits.ts';
import { RedisRateLimiter } from '../src/redis.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';
import { describeRateLimiter } from './rate-limit-suite.ts';

let db: TestDatabase;
const pools: pg.Pool[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await db.drop();
});

let keys = 0;
describeRateLimiter('Postgres rate limiter', () => ({
  async open(options) {
    // A pool of its own per limiter: each plays a separate API process.
    const pool = createPool({ connectionString: db.url, max: 4 });
    pools.push(pool);
    return new PgRateLimiter(pool, options);
  },
  key: (name) => `${name}:${keys++}`,
}));

describe('Postgres rate limiter housekeeping', () => {
  it('prunes ended windows and expired slots, and keeps the live ones', async () => {
    const pool = createPool({ connectionString: db.url, max: 2 });
    pools.push(pool);
    const clock = { now: Date.UTC(2031, 0, 1, 0, 0, 0) };
    const limiter = new PgRateLimiter(pool, { now: () => clock.now, slotTtlMs: 5_000 });
    try {
      await limiter.take('prune:old', 1, { limit: 5, windowSeconds: 60 });
      await limiter.acquire('prune:old', 5);
      clock.now += 61_000;
      await limiter.take('prune:new', 1, { limit: 5, windowSeconds: 60 });
      await limiter.acquire('prune:new', 5);
      await limiter.prune();
      const windows = await pool.query<{ key: string }>(`select key from tasklane.rate_limits where key like 'prune:%' order by key`);
      const slots = await pool.query<{ key: string }>(`select key from tasklane.rate_limit_slots where key like 'prune:%'`);
      expect(windows.rows.map((r) => r.key)).toEqual(['prune:new']);
      expect(slots.rows.map((r) => r.key)).toEqual(['prune:new']);
    } finally {
      limiter.abandon();
    }
  });
});

const redisUrl = process.env.REDIS_URL;
if (redisUrl) {
  // Keys of this run's own: other runs on the same Redis stay apart.
  const prefix = `tasklane-test:${randomBytes(4).toString('hex')}:`;
  const opened: RedisRateLimiter[] = [];
  afterAll(async () => {
    const admin = new Redis(redisUrl);
    const found = await admin.keys(`${prefix}*`);
    if (found.length > 0) await admin.del(...found);
    admin.disconnect();
  });
  describeRateLimiter('Redis rate limiter', () => ({
    async open(options) {
      const limiter = new RedisRateLimiter({ url: redisUrl, prefix, ...options });
      opened.push(limiter);
      await limiter.start();
      return limiter;
    },
    key: (name) => `${name}:${keys++}`,
  }));
} else {
  describe.skip('Redis rate limiter (skipped: set REDIS_URL, e.g. redis://127.0.0.1:6379, to run these cases)', () => {
    it('runs the same cases as the Postgres limiter', () => {});
  });
}

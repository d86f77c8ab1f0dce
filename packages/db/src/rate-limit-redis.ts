import { Redis } from 'ioredis';
import { HeldSlots } from './rate-limit-slots.ts';
import {
  neverFits,
  secondsUntil,
  type RateDecision,
  type RateLimiter,
  type RateLimiterOptions,
  type RateRule,
  type SlotDecision,
} from './rate-limit.ts';

export interface RedisRateLimiterOptions extends RateLimiterOptions {
  url: string;
  /** Prefix of every key, so deployments (or test runs) sharing one Redis stay apart. @default 'tasklane:rl:' */
  prefix?: string;
  /** `CLIENT SETNAME`. @default 'tasklane-ratelimit' */
  connectionName?: string;
  /** A call that takes longer fails (and the API lets the request through). @default 1000 */
  commandTimeoutMs?: number;
}

// The clock of the Redis server unless the caller passes one: every process reads the same clock.
const NOW = `
  local now = tonumber(ARGV[#ARGV])
  if now == nil then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end`;

/**
 * KEYS[1] = the key's hash {end, used}; ARGV = cost, limit, window ms, [now ms].
 * Returns {allowed 0|1, used after, window end, now}. A script runs atomically in Redis.
 */
const TAKE_SCRIPT = `${NOW}
  local cost, limit, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
  local window_end = math.floor(now / window) * window + window
  local stored = redis.call('HMGET', KEYS[1], 'end', 'used')
  local used = 0
  if stored[1] and tonumber(stored[1]) >= window_end then
    window_end = tonumber(stored[1])
    used = tonumber(stored[2])
  end
  if used + cost > limit then
    return {0, used, window_end, now}
  end
  redis.call('HSET', KEYS[1], 'end', window_end, 'used', used + cost)
  redis.call('PEXPIREAT', KEYS[1], window_end)
  return {1, used + cost, window_end, now}`;

/**
 * KEYS[1] = the key's sorted set of slot ids scored by expiry; ARGV = id, limit, ttl ms, [now ms].
 * Returns {granted 0|1, held after}.
 */
const ACQUIRE_SCRIPT = `${NOW}
  local id, limit, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  local held = redis.call('ZCARD', KEYS[1])
  if held >= limit then
    return {0, held}
  end
  redis.call('ZADD', KEYS[1], now + ttl, id)
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {1, held + 1}`;

/** KEYS = sorted sets; ARGV = ttl ms, then per key "n id1 … idn", then [now ms]. Renews only slots still present. */
const RENEW_SCRIPT = `${NOW}
  local ttl = tonumber(ARGV[1])
  local at = 2
  for k = 1, #KEYS do
    local n = tonumber(ARGV[at])
    for i = 1, n do
      redis.call('ZADD', KEYS[k], 'XX', now + ttl, ARGV[at + i])
    end
    at = at + n + 1
    if redis.call('EXISTS', KEYS[k]) == 1 then redis.call('PEXPIRE', KEYS[k], ttl) end
  end
  return 0`;

interface Scripts {
  tasklaneTake(key: string, cost: number, limit: number, windowMs: number, now: string): Promise<[number, number, number, number]>;
  tasklaneAcquire(key: string, id: string, limit: number, ttlMs: number, now: string): Promise<[number, number]>;
}

/**
 * The limiter on Redis (`RATE_LIMIT_STORE=redis`), for deployments that already run Redis and
 * would rather not write to Postgres on every submission. Each decision is one Lua script, which
 * Redis runs atomically; slots are sorted-set members scored by their expiry.
 *
 * The connection has no offline queue: while Redis is unreachable a call fails at once instead
 * of waiting, and the caller decides what a failed check means (the API lets the request through).
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis & Scripts;
  private readonly prefix: string;
  private readonly slots: HeldSlots;

  constructor(private readonly options: RedisRateLimiterOptions) {
    this.prefix = options.prefix ?? 'tasklane:rl:';
    const redis = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // A Redis that stops answering (a partition, no reset) must not hold submissions up.
      commandTimeout: options.commandTimeoutMs ?? 1000,
      connectionName: options.connectionName ?? 'tasklane-ratelimit',
      // Reconnect for ever with capped backoff: an outage of Redis must not end the process.
      retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 10), 5000),
    });
    redis.defineCommand('tasklaneTake', { numberOfKeys: 1, lua: TAKE_SCRIPT });
    redis.defineCommand('tasklaneAcquire', { numberOfKeys: 1, lua: ACQUIRE_SCRIPT });
    redis.on('error', (error: Error) => options.onError?.(error));
    this.redis = redis as Redis & Scripts;
    this.slots = new HeldSlots(
      {
        renew: async (held, ttlMs) => {
          const keys: string[] = [];
          const args: (string | number)[] = [ttlMs];
          for (const [key, ids] of held) {
            keys.push(this.slotsKey(key));
            args.push(ids.size, ...ids);
          }
          await this.redis.eval(RENEW_SCRIPT, keys.length, ...keys, ...args, this.nowArg());
        },
        remove: async (key, id) => {
          await this.redis.zrem(this.slotsKey(key), id);
        },
      },
      options,
    );
  }

  /** Connects; rejects when Redis cannot be reached now (it keeps trying in the background). */
  async start(): Promise<void> {
    if (this.redis.status === 'wait') await this.redis.connect();
  }

  get holder(): string {
    return this.slots.holder;
  }

  private slotsKey(key: string): string {
    return `${this.prefix}slots:${key}`;
  }

  // An empty string reads as nil in Lua's tonumber, which means "use Redis's clock".
  private nowArg(): string {
    return this.options.now ? String(this.options.now()) : '';
  }

  async take(key: string, cost: number, rule: RateRule): Promise<RateDecision> {
    if (cost > rule.limit) return neverFits(rule);
    const [allowed, used, end, now] = await this.redis.tasklaneTake(`${this.prefix}take:${key}`, cost, rule.limit, rule.windowSeconds * 1000, this.nowArg());
    const reset = secondsUntil(now, end);
    return { allowed: allowed === 1, remaining: Math.max(0, rule.limit - used), resetSeconds: reset, retryAfterSeconds: allowed === 1 ? 0 : reset };
  }

  async acquire(key: string, limit: number): Promise<SlotDecision> {
    const id = this.slots.newId();
    const [granted, held] = await this.redis.tasklaneAcquire(this.slotsKey(key), id, limit, this.slots.ttlMs, this.nowArg());
    if (granted !== 1) return { allowed: false, held };
    return { allowed: true, slot: this.slots.add(key, id) };
  }

  heartbeat(): Promise<void> {
    return this.slots.beat();
  }

  abandon(): void {
    this.slots.abandon();
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') await this.slots.releaseAll();
    else this.slots.abandon();
    this.redis.disconnect();
  }
}

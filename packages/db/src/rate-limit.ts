/** A quota of `limit` units per fixed window of `windowSeconds`, e.g. 60 submissions per minute. */
export interface RateRule {
  limit: number;
  windowSeconds: number;
}

/** The answer to one {@link RateLimiter.take}, with what the IETF RateLimit headers need. */
export interface RateDecision {
  allowed: boolean;
  /** Units left in the current window after this decision (`r` of the `RateLimit` header). */
  remaining: number;
  /** Seconds until the window resets and the whole quota is available again (`t`). */
  resetSeconds: number;
  /**
   * Seconds to wait before the same request can succeed: 0 when allowed, `resetSeconds` when
   * refused, or undefined when it never can (a batch larger than the whole quota).
   */
  retryAfterSeconds: number | undefined;
}

/** One open subscription counted against its owner's limit until released. */
export interface RateLimitSlot {
  readonly id: string;
  /** Gives the slot back; safe to call more than once. */
  release(): Promise<void>;
}

/** The answer to one {@link RateLimiter.acquire}: a slot, or how many the key already holds. */
export type SlotDecision = { allowed: true; slot: RateLimitSlot } | { allowed: false; held: number };

/**
 * Per-key limits whose state lives in a shared store (Postgres or Redis), never in one process's
 * memory, so every API process of a deployment enforces the same budget. Each decision is one
 * atomic step in the store: concurrent takers can never overspend a quota between them.
 */
export interface RateLimiter {
  /** Spends `cost` units of `key`'s quota, or none of them when fewer are left. */
  take(key: string, cost: number, rule: RateRule): Promise<RateDecision>;
  /**
   * Takes one of `key`'s `limit` concurrent slots. A slot counts until released, or until this
   * process stops renewing it (it died or lost the store for longer than the slot's time to live).
   */
  acquire(key: string, limit: number): Promise<SlotDecision>;
  /** Stops renewing and gives back every slot this limiter still holds (best effort). */
  close(): Promise<void>;
}

/** Options shared by both stores. */
export interface RateLimiterOptions {
  /**
   * Identifies this process's slots; unique per process. @default a random id
   */
  holder?: string;
  /** How long a slot counts without a renewal. @default 30000 */
  slotTtlMs?: number;
  /** How often the held slots are renewed. @default a third of `slotTtlMs` */
  heartbeatMs?: number;
  /**
   * Milliseconds since the epoch, for tests that move time. By default the store's own clock is
   * used (the database's or Redis's), so that processes whose clocks disagree still agree on windows.
   */
  now?: () => number;
  /** Told when a heartbeat fails (it is retried on the next beat). */
  onError?: (error: Error) => void;
}

/** The window a decision at `nowMs` falls in, aligned to the epoch so every process agrees. */
export function windowEnd(nowMs: number, windowSeconds: number): number {
  const windowMs = windowSeconds * 1000;
  return Math.floor(nowMs / windowMs) * windowMs + windowMs;
}

/** The decision for a cost no window can ever hold, answered without asking the store. */
export function neverFits(rule: RateRule): RateDecision {
  return { allowed: false, remaining: rule.limit, resetSeconds: 0, retryAfterSeconds: undefined };
}

/** Whole seconds, rounded up, and at least 1 so a client never retries at once into a refusal. */
export function secondsUntil(fromMs: number, toMs: number): number {
  return Math.max(1, Math.ceil((toMs - fromMs) / 1000));
}

import type pg from 'pg';
import type { RateLimitSettings } from '@tasklane/core';
import { createRateLimiter, type RateLimiter, type RateRule } from '@tasklane/db/limits';
import { isDatabaseUnavailable } from '../database-unavailable.ts';
import { RateLimitedError, type SubmissionQuota } from './rate-limited-error.ts';

/**
 * A hint, not a promise: a subscription slot frees when one of the owner's subscriptions ends,
 * which the server cannot foresee.
 */
export const SUBSCRIPTION_RETRY_AFTER_SECONDS = 5;

const SUBMIT_WINDOW_SECONDS = 60;

/** Gives a subscription slot back; safe to call more than once. */
export type ReleaseSlot = () => void;

const NOTHING_TO_RELEASE: ReleaseSlot = () => {};

export interface OwnerLimitsOptions {
  /** Told when the limiter's store fails and a request is let through instead. */
  onError?: (error: Error) => void;
}

/**
 * The per-owner limits of one API process, on a store every process shares. Each check costs one
 * round trip to the store, and nothing at all for a limit set to 0 (unlimited).
 *
 * When the store fails the request goes through ("fail open"): limits protect capacity, not data
 * (ownership is checked by auth), so an outage of the limiter's store must not become an outage
 * of the API. The one exception is the Postgres store being unreachable: then the task database
 * itself is down, and the error propagates to answer 503 UNAVAILABLE as every other request does.
 */
export class OwnerLimits {
  private readonly submitRule: RateRule;
  private lastReport = 0;

  constructor(
    private readonly limiter: RateLimiter | undefined,
    readonly settings: RateLimitSettings,
    private readonly options: OwnerLimitsOptions = {},
  ) {
    this.submitRule = { limit: settings.submissionsPerMinute, windowSeconds: SUBMIT_WINDOW_SECONDS };
  }

  /** Opens the store `RATE_LIMIT_STORE` names, or none when every limit is 0. */
  static async open(settings: RateLimitSettings, pool: pg.Pool, redisUrl: string | undefined, options: OwnerLimitsOptions = {}): Promise<OwnerLimits> {
    if (settings.submissionsPerMinute === 0 && settings.subscriptions === 0) return new OwnerLimits(undefined, settings, options);
    const limiter = await createRateLimiter({
      kind: settings.store,
      pool,
      redisUrl,
      slotTtlMs: settings.slotTtlSeconds * 1000,
      ...(options.onError ? { onError: options.onError } : {}),
    });
    return new OwnerLimits(limiter, settings, options);
  }

  /** The policy for `RateLimit-Policy`, or undefined when submissions are unlimited. */
  get submitPolicy(): RateRule | undefined {
    return this.settings.submissionsPerMinute > 0 ? this.submitRule : undefined;
  }

  /**
   * Counts `count` submissions against `owner`'s quota, all or none. Throws `RateLimitedError`
   * when they do not fit; returns what is left (undefined when unlimited or the store failed).
   */
  async chargeSubmissions(owner: string, count = 1): Promise<SubmissionQuota | undefined> {
    if (!this.limiter || this.settings.submissionsPerMinute === 0) return undefined;
    const rule = this.submitRule;
    let decision;
    try {
      decision = await this.limiter.take(`submit:${owner}`, count, rule);
    } catch (error) {
      this.failOpen(error);
      return undefined;
    }
    const quota = { limit: rule.limit, windowSeconds: rule.windowSeconds, remaining: decision.remaining, resetSeconds: decision.resetSeconds };
    if (decision.allowed) return quota;
    if (decision.retryAfterSeconds === undefined) {
      throw new RateLimitedError(
        'submit',
        `A batch of ${count} tasks exceeds the limit of ${rule.limit} submissions per minute; submit at most ${rule.limit} at a time`,
        undefined,
      );
    }
    throw new RateLimitedError(
      'submit',
      `Rate limit exceeded: at most ${rule.limit} task submissions per minute; retry in ${decision.retryAfterSeconds} s`,
      decision.retryAfterSeconds,
      quota,
    );
  }

  /**
   * Takes one of `owner`'s open-subscription slots, or throws `RateLimitedError`. The returned
   * function gives it back; call it when the subscription ends, however it ends.
   */
  async openSubscription(owner: string): Promise<ReleaseSlot> {
    const limit = this.settings.subscriptions;
    if (!this.limiter || limit === 0) return NOTHING_TO_RELEASE;
    let decision;
    try {
      decision = await this.limiter.acquire(`subscriptions:${owner}`, limit);
    } catch (error) {
      this.failOpen(error);
      return NOTHING_TO_RELEASE;
    }
    if (!decision.allowed) {
      throw new RateLimitedError(
        'subscriptions',
        `Too many open subscriptions: at most ${limit} per owner; end one, or retry in ${SUBSCRIPTION_RETRY_AFTER_SECONDS} s`,
        SUBSCRIPTION_RETRY_AFTER_SECONDS,
      );
    }
    const { slot } = decision;
    return () => void slot.release();
  }

  async close(): Promise<void> {
    await this.limiter?.close();
  }

  private failOpen(error: unknown): void {
    if (this.settings.store === 'postgres' && isDatabaseUnavailable(error)) throw error;
    // One report per 10 s: a store that is down would otherwise log on every request.
    const now = Date.now();
    if (now - this.lastReport < 10_000) return;
    this.lastReport = now;
    const report = this.options.onError ?? ((e: Error) => console.error(`tasklane api: rate limit store failed, letting requests through: ${e.message}`));
    report(error instanceof Error ? error : new Error(String(error)));
  }
}

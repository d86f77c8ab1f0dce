import { TasklaneError } from '@tasklane/core';

/** Which quota refused: the `RateLimit-Policy` name for submissions, or the subscription limit. */
export type LimitPolicy = 'submit' | 'subscriptions';

/** What is left of an owner's submission quota: the `RateLimit` header fields. */
export interface SubmissionQuota {
  limit: number;
  windowSeconds: number;
  remaining: number;
  resetSeconds: number;
}

/**
 * A request over one of its owner's limits (code RATE_LIMITED). REST answers 429 with
 * `Retry-After`; GraphQL puts `retryAfter` in the error's extensions.
 */
export class RateLimitedError extends TasklaneError {
  constructor(
    readonly policy: LimitPolicy,
    message: string,
    /** Seconds until the same request can succeed; undefined when it never can (a batch above the quota). */
    readonly retryAfterSeconds: number | undefined,
    /** The submission quota as it stands, for the `RateLimit` headers of the refusal. */
    readonly quota?: SubmissionQuota,
  ) {
    super('RATE_LIMITED', message);
  }
}

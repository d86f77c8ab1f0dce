import type { FastifyReply } from 'fastify';
import { HttpProblem } from '../rest/problem.ts';
import type { OwnerLimits } from './owner-limits.ts';
import { RateLimitedError, type SubmissionQuota } from './rate-limited-error.ts';

/** The policy name in the `RateLimit-Policy` and `RateLimit` headers. */
const SUBMIT_POLICY = 'submit';

/**
 * The IETF draft's headers (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy` names the
 * quota (`q` units per `w` seconds) and `RateLimit` says what is left of it (`r`) and in how many
 * seconds it is whole again (`t`). Sent on every submit answer, so clients can slow down before
 * they are refused.
 */
export function setRateLimitHeaders(reply: FastifyReply, quota: SubmissionQuota): void {
  reply.header('ratelimit-policy', `"${SUBMIT_POLICY}";q=${quota.limit};w=${quota.windowSeconds}`);
  reply.header('ratelimit', `"${SUBMIT_POLICY}";r=${quota.remaining};t=${quota.resetSeconds}`);
}

/** The REST answer to a `RateLimitedError`: 429 problem+json with `Retry-After` (seconds). */
export function rateLimitedProblem(reply: FastifyReply, error: RateLimitedError): HttpProblem {
  if (error.quota) setRateLimitHeaders(reply, error.quota);
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  return new HttpProblem('rate-limited', error.message, {
    code: 'RATE_LIMITED',
    ...(error.retryAfterSeconds === undefined ? {} : { retry_after: error.retryAfterSeconds }),
  });
}

/**
 * Charges `count` submissions to `owner` before a REST submit: sets the RateLimit headers, or
 * throws the 429 problem (the error handler keeps the headers set here).
 */
export async function chargeRestSubmissions(limits: OwnerLimits, reply: FastifyReply, owner: string, count = 1): Promise<void> {
  try {
    const quota = await limits.chargeSubmissions(owner, count);
    if (quota) setRateLimitHeaders(reply, quota);
  } catch (error) {
    if (error instanceof RateLimitedError) throw rateLimitedProblem(reply, error);
    throw error;
  }
}

/**
 * Takes a subscription slot for a REST stream (SSE, `/ws/tasks/{id}`); throws the 429 problem
 * when the owner holds too many. Call the returned function when the stream ends.
 */
export async function openRestSubscription(limits: OwnerLimits, reply: FastifyReply, owner: string): Promise<() => void> {
  try {
    return await limits.openSubscription(owner);
  } catch (error) {
    if (error instanceof RateLimitedError) throw rateLimitedProblem(reply, error);
    throw error;
  }
}

import { RateLimitedError } from './rate-limited-error.ts';

/**
 * What a GraphQL error carries for a `RateLimitedError`, besides `code`: `retryAfter` in seconds
 * (absent when retrying cannot help). The HTTP status is left alone: under GraphQL over HTTP a
 * field error is part of a 200 response, the same on every transport.
 */
export function rateLimitExtensions(error: unknown): Record<string, unknown> {
  if (!(error instanceof RateLimitedError) || error.retryAfterSeconds === undefined) return {};
  return { retryAfter: error.retryAfterSeconds };
}

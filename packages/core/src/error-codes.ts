/**
 * Every `code` the server sends, over GraphQL (`extensions.code`) and REST (the problem body's
 * `code`). Browser-safe (no I/O, no node: imports): the client imports this list through
 * `@tasklane/core/errors`, so a code the server starts sending is a code the client knows.
 */

/** Codes of the domain errors (`TasklaneError`) that reach clients as they are. */
export const PUBLIC_DOMAIN_ERROR_CODES = [
  'NOT_FOUND',
  'TASK_NOT_CANCELLABLE',
  'TASK_NOT_RETRYABLE',
  'BAD_USER_INPUT',
  'IDEMPOTENCY_CONFLICT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  /** The database is unreachable: retry after `Retry-After` (HTTP 503). */
  'UNAVAILABLE',
  /** An HTTP worker wrote to a task it no longer holds (409 on the worker protocol). */
  'LEASE_LOST',
] as const;

/** Codes of domain errors that never leave the server: they are masked as INTERNAL_SERVER_ERROR. */
export const INTERNAL_ERROR_CODES = ['INVALID_TRANSITION', 'CONFIG_INVALID'] as const;

/** Codes of the GraphQL transport: a document or request the server could not run. */
export const TRANSPORT_ERROR_CODES = [
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  /** A masked unexpected error (the server logged its cause). */
  'INTERNAL_SERVER_ERROR',
] as const;

/** Every code a client may receive. */
export const SERVER_ERROR_CODES = [...PUBLIC_DOMAIN_ERROR_CODES, ...TRANSPORT_ERROR_CODES] as const;
export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];

/** Every code a `TasklaneError` can carry. */
export const ERROR_CODES = [...PUBLIC_DOMAIN_ERROR_CODES, ...INTERNAL_ERROR_CODES] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const PUBLIC_DOMAIN: ReadonlySet<string> = new Set(PUBLIC_DOMAIN_ERROR_CODES);

/** Whether a domain error with this code is shown to clients as it is (the rest are masked). */
export function isPublicErrorCode(code: string): code is (typeof PUBLIC_DOMAIN_ERROR_CODES)[number] {
  return PUBLIC_DOMAIN.has(code);
}

/**
 * Whether an error means "the database cannot be reached right now" rather than "the server is
 * broken": REST answers those with 503 and GraphQL with `UNAVAILABLE`, both with `Retry-After`,
 * so clients retry instead of reporting a bug. Shared so that both layers agree on what counts.
 */

/** Seconds a client should wait before retrying while the database is away. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

export const DATABASE_UNAVAILABLE_MESSAGE = 'The task database is unreachable; retry shortly';

// Socket errno codes, and Postgres classes 08 (connection exception), 53 (insufficient resources)
// and 57P (operator intervention: shutdown, crash recovery, "cannot connect now").
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);
// A transaction pooler refusing a named statement (DATABASE_PREPARED_STATEMENTS=on behind one that
// cannot keep them): the database is there, but this process cannot use it as configured.
const POOLER_REFUSALS = new Set(['42P05', '26000']);
// pg's own messages for a pool that cannot connect or a connection that died mid-query.
const UNAVAILABLE_MESSAGE = /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error/i;

export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, cause } = error as { code?: unknown; message?: unknown; cause?: unknown };
  const text = typeof code === 'string' ? code : '';
  if (UNAVAILABLE_ERRNO.has(text) || POOLER_REFUSALS.has(text) || /^(08|53|57P)/.test(text)) return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  // AggregateError (a refused connection on both ::1 and 127.0.0.1) and wrapped errors.
  if (error instanceof AggregateError) return error.errors.some(isDatabaseUnavailable);
  return cause !== undefined && cause !== error && isDatabaseUnavailable(cause);
}

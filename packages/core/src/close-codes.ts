/**
 * Every WebSocket close code Tasklane's servers send and its clients act on, in one place. The
 * 44xx codes of graphql-ws's protocol keep graphql-ws's own values (`CloseCode` in graphql-ws; a
 * test pins each one against it), so the task socket `/ws/tasks/{id}` and the GraphQL socket
 * speak the same codes; the rest are RFC 6455's.
 */
export const SocketClose = {
  /** The task reached completed, failed or cancelled; its final state was the last message. */
  Finished: 1000,
  /** The server is stopping; reconnect, elsewhere if you can. */
  GoingAway: 1001,
  /** The server cannot go on (the update feed broke, authentication is unavailable); reconnect to retry. */
  InternalError: 1011,
  /** A message the protocol does not allow (graphql-ws `CloseCode.BadRequest`). */
  BadRequest: 4400,
  /** No key was presented, or not in time (graphql-ws `CloseCode.Unauthorized`). */
  Unauthorized: 4401,
  /** A key was presented but it is malformed, unknown, revoked or not allowed this (graphql-ws `CloseCode.Forbidden`). */
  Forbidden: 4403,
  /** No such task, or not the caller's. */
  NotFound: 4404,
  /**
   * The owner holds as many open subscriptions as allowed (`RATE_LIMIT_SUBSCRIPTIONS`). graphql-ws
   * uses the same code for a second connection_init on one socket: both mean "too many".
   */
  RateLimited: 4429,
} as const;

export type SocketCloseCode = (typeof SocketClose)[keyof typeof SocketClose];

/** A WebSocket close reason may hold at most 123 bytes of UTF-8 (RFC 6455 5.5). */
const MAX_CLOSE_REASON_BYTES = 123;

/** `reason` cut to fit a close frame, on a character boundary, with "..." where it was cut. */
export function fitCloseReason(reason: string): string {
  if (new TextEncoder().encode(reason).length <= MAX_CLOSE_REASON_BYTES) return reason;
  const encoder = new TextEncoder();
  let cut = reason.slice(0, MAX_CLOSE_REASON_BYTES - 3);
  while (encoder.encode(cut).length > MAX_CLOSE_REASON_BYTES - 3) cut = cut.slice(0, -1);
  // Never end on half a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}...`;
}

/** What `watch` and `submit --wait` exit with; scripts branch on these. */
export const EXIT = {
  completed: 0,
  failed: 1,
  cancelled: 2,
  timedOut: 3,
  /** Bad usage, the server unreachable, or the server refusing the request (unknown id, bad input). */
  usage: 4,
} as const;

/** A mistake in how the command was called: exit 4 with a one-line reason. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

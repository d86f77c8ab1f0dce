/** Why a running task's `ctx.signal` fired. */
export type AbortCause = 'cancelled' | 'lease_lost' | 'shutdown' | 'timeout';

const MESSAGES: Record<AbortCause, string> = {
  cancelled: 'was cancelled',
  lease_lost: 'is no longer held by this worker (its lease was lost)',
  shutdown: 'was interrupted because the worker is shutting down',
  timeout: 'ran past its time limit',
};

/** The `reason` of an aborted `ctx.signal`: handlers can tell a cancel from a shutdown. */
export class TaskAbortedError extends Error {
  constructor(
    readonly reason: AbortCause,
    readonly taskId: string,
  ) {
    super(`Task ${taskId} ${MESSAGES[reason]}`);
    this.name = 'TaskAbortedError';
  }
}

import {
  TaskCancelledError,
  TaskFailedError,
  TaskTimeoutError,
  TasklaneConnectionError,
  TasklaneRequestError,
} from '@tasklane/client';
import { EXIT, UsageError } from './exit-codes.ts';

/** The exit code for an error and the one line that explains it, or undefined for a bug. */
export function describeFailure(error: unknown): { code: number; reason: string } | undefined {
  if (error instanceof TaskFailedError) return { code: EXIT.failed, reason: `task ${error.task.id} failed: ${error.errorType}: ${error.errorMessage}` };
  if (error instanceof TaskCancelledError) return { code: EXIT.cancelled, reason: `task ${error.task.id} was cancelled` };
  if (error instanceof TaskTimeoutError) {
    const last = error.lastTask ? ` (still ${error.lastTask.status.toLowerCase()} at ${error.lastTask.progress}%)` : '';
    return { code: EXIT.timedOut, reason: `gave up waiting for task ${error.taskId} after ${error.timeout / 1000}s${last}` };
  }
  if (error instanceof UsageError) return { code: EXIT.usage, reason: `${error.message} (see tasklane help)` };
  if (error instanceof TasklaneConnectionError) return { code: EXIT.usage, reason: `${error.message}; is the server running? (set --url or TASKLANE_URL)` };
  if (error instanceof TasklaneRequestError) return { code: EXIT.usage, reason: `${error.message} (${error.code})` };
  return undefined;
}

import type { TaskErrorInfo } from '@tasklane/core';

export interface TaskErrorOptions {
  /** A stable, machine-readable name clients can branch on, e.g. `VideoGenerationError`. */
  type: string;
  message: string;
  /** Whether another attempt could succeed. @default false */
  retryable?: boolean;
}

/**
 * Thrown by a handler to fail its task with a chosen error. Any other thrown error counts as
 * retryable, because an unexpected crash is more often a flaky dependency than a bad request.
 */
export class TaskError extends Error {
  readonly type: string;
  readonly retryable: boolean;

  constructor({ type, message, retryable = false }: TaskErrorOptions) {
    super(message);
    this.name = 'TaskError';
    this.type = type;
    this.retryable = retryable;
  }
}

/** What a thrown value records on the task. */
export function toErrorInfo(error: unknown): TaskErrorInfo {
  if (error instanceof TaskError) return { type: error.type, message: error.message, retryable: error.retryable };
  if (error instanceof Error) return { type: error.name || 'Error', message: error.message, retryable: true };
  return { type: 'Error', message: String(error), retryable: true };
}

/** How an attempt that ran past its time limit fails: retryable, since the next try may be faster. */
export function timeoutError(limitSeconds: number): TaskError {
  return new TaskError({ type: 'Timeout', message: `The task ran past its time limit of ${limitSeconds} s`, retryable: true });
}

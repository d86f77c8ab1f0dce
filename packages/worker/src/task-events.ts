import type { Task, TaskErrorInfo } from '@tasklane/core';
import type { AbortCause } from './abort-reason.ts';

/** What happened to a task in this worker; for tests, metrics and logs. */
export type TaskEvent =
  | { type: 'started'; task: Task }
  | { type: 'completed'; taskId: string; attempt: number }
  /** `willRetry`: the task went back to pending for another attempt. */
  | { type: 'failed'; taskId: string; attempt: number; error: TaskErrorInfo; willRetry: boolean }
  | { type: 'aborted'; taskId: string; attempt: number; reason: AbortCause }
  /** The handler's outcome was not stored: the task had been cancelled or taken away meanwhile. */
  | { type: 'dropped'; taskId: string; attempt: number }
  /** Given back to pending at shutdown without spending the attempt. */
  | { type: 'released'; taskId: string; attempt: number };

export type TaskEventListener = (event: TaskEvent) => void;

import type { TaskErrorInfo } from './task.ts';

/**
 * How an attempt ended. An attempt that ended without ending the task is one of `failed` (a
 * retryable error, retried), `lost` (its worker stopped renewing the lease) or `released` (given
 * back by a stopping worker, without spending an attempt: the next claim has the same number).
 * The last attempt takes the task's status: `running` while it runs, then `completed`, `failed` or
 * `cancelled`.
 */
export const ATTEMPT_OUTCOMES = ['running', 'completed', 'failed', 'lost', 'released', 'cancelled'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** One attempt of a task: which worker ran it, when, and how it ended. */
export interface TaskAttempt {
  /** The task's attempt count when it ran, from 1. */
  attempt: number;
  /** The worker id that claimed it; null for attempts claimed before attempts were recorded. */
  worker: string | null;
  startedAt: Date;
  /** Null while it runs. */
  endedAt: Date | null;
  outcome: AttemptOutcome;
  error: TaskErrorInfo | null;
}

/**
 * Ended attempts a task keeps; older ones are dropped first. Retries are bounded by max_attempts,
 * but releases spend no attempt, so a task given back again and again (by a worker that keeps
 * restarting) could otherwise grow its row without end.
 */
export const MAX_RECORDED_ATTEMPTS = 200;

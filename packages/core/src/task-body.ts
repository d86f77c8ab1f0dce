import { queueMessage, type QueuePlace } from './queue-place.ts';
import type { JsonValue, Task, TaskMetadata } from './task.ts';
import type { AttemptOutcome, TaskAttempt } from './task-attempt.ts';
import type { TaskStatus } from './status.ts';

/**
 * The seed contract's shapes (docs/rest-api.md), built from a stored task. Every REST and
 * WebSocket response that carries a task goes through here, so the keys, their order and the
 * timestamp format cannot drift between endpoints.
 */

/** `GET /api/v1/tasks/{task_id}`: the seed's eight keys, in the seed's order. */
export interface TaskBody {
  task_id: string;
  status: TaskStatus;
  progress: number;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  result: { service: string | null; result: JsonValue | null; duration: number } | null;
  error: { type: string; message: string } | null;
}

/** A pending task's place, in the REST layer's snake case. */
export interface QueueBody {
  position: number | null;
  ahead: number | null;
  eta_seconds: number | null;
  waiting_for: string | null;
}

/**
 * `GET /api/v1/tasks/{task_id}?view=full`: the seed's keys first, then what the seed lacks. A
 * pending task's message is its place in words.
 */
export interface FullTaskBody extends TaskBody {
  kind: string;
  service: string | null;
  message: string;
  input: JsonValue;
  attempts: number;
  max_attempts: number;
  priority: number;
  run_at: string;
  started_at: string | null;
  finished_at: string | null;
  version: number;
  metadata: TaskMetadata;
  /** The failed or cancelled task this one re-runs. */
  retried_from: string | null;
  queue: QueueBody | null;
  /** Every attempt, oldest first. */
  attempt_history: AttemptBody[];
}

/** One attempt in the full view, in the REST layer's snake case and timestamps. */
export interface AttemptBody {
  attempt: number;
  worker: string | null;
  started_at: string;
  ended_at: string | null;
  outcome: AttemptOutcome;
  error: { type: string; message: string } | null;
}

export function fullTaskBody(task: Task, place: QueuePlace | undefined, attempts: readonly TaskAttempt[]): FullTaskBody {
  return {
    ...taskBody(task),
    kind: task.kind,
    service: task.service,
    message: place ? queueMessage(place, task.kind) : (task.message ?? STATUS_MESSAGES[task.status]),
    input: task.input,
    attempts: task.attempts,
    max_attempts: task.maxAttempts,
    priority: task.priority,
    run_at: formatTimestamp(task.runAt),
    started_at: task.startedAt ? formatTimestamp(task.startedAt) : null,
    finished_at: task.finishedAt ? formatTimestamp(task.finishedAt) : null,
    version: task.version,
    metadata: task.metadata,
    retried_from: task.retriedFrom,
    queue: place
      ? { position: place.position, ahead: place.ahead, eta_seconds: place.etaSeconds, waiting_for: place.waitingFor }
      : null,
    attempt_history: attempts.map((a) => ({
      attempt: a.attempt,
      worker: a.worker,
      started_at: formatTimestamp(a.startedAt),
      ended_at: a.endedAt ? formatTimestamp(a.endedAt) : null,
      outcome: a.outcome,
      error: a.error ? { type: a.error.type, message: a.error.message } : null,
    })),
  };
}

/** One element of `GET /api/v1/tasks`. */
export interface TaskListItem {
  task_id: string;
  status: TaskStatus;
  progress: number;
  created_at: string;
  updated_at: string;
  message: string;
}

/** `DELETE /api/v1/tasks/{task_id}` (also the members a 409 problem carries, with success false). */
export interface CancelBody {
  success: boolean;
  message: string;
  task_id: string;
}

/** `2026-01-11T10:30:00Z`: UTC, whole seconds (truncated, never rounded up into the future), `Z`. */
export function formatTimestamp(date: Date): string {
  return date.toISOString().slice(0, 19) + 'Z';
}

/** Seconds the successful attempt ran, as a float; 0 when the start was not recorded. */
function durationSeconds(task: Task): number {
  if (!task.completedAt || !task.startedAt) return 0;
  return Math.max(0, task.completedAt.getTime() - task.startedAt.getTime()) / 1000;
}

export function taskBody(task: Task): TaskBody {
  const completed = task.status === 'completed';
  return {
    task_id: task.id,
    status: task.status,
    progress: task.progress,
    created_at: formatTimestamp(task.createdAt),
    updated_at: formatTimestamp(task.updatedAt),
    // The seed shows null for failed tasks: only a success has a completion time.
    completed_at: completed && task.completedAt ? formatTimestamp(task.completedAt) : null,
    result: completed ? { service: task.service, result: task.result ?? null, duration: durationSeconds(task) } : null,
    // A pending task may carry the error of an attempt that will be retried: not a failure yet.
    error: task.status === 'failed' && task.error ? { type: task.error.type, message: task.error.message } : null,
  };
}

/** The GET body as JSON text: what the hot path sends and what SSE and WebSocket frames carry. */
export function taskBodyJson(task: Task): string {
  return JSON.stringify(taskBody(task));
}

/**
 * The message each transition sets, from the task-management contract's examples: the store
 * writes these, and a body whose task has no message of its own shows the one of its status.
 */
export const STATUS_MESSAGES: Readonly<Record<TaskStatus, string>> = {
  pending: 'Task queued',
  processing: 'Task processing started',
  completed: 'Task completed successfully',
  failed: 'Task failed',
  cancelled: 'Task cancelled',
};

export function taskListItem(task: Task): TaskListItem {
  return {
    task_id: task.id,
    status: task.status,
    progress: task.progress,
    created_at: formatTimestamp(task.createdAt),
    updated_at: formatTimestamp(task.updatedAt),
    message: task.message ?? STATUS_MESSAGES[task.status],
  };
}

export function cancelledBody(taskId: string): CancelBody {
  return { success: true, message: `Task ${taskId} has been cancelled`, task_id: taskId };
}

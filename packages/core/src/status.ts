/** The five statuses of the seed contract, in lifecycle order. */
export const TASK_STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);

export function isTaskStatus(value: unknown): value is TaskStatus {
  return typeof value === 'string' && (TASK_STATUSES as readonly string[]).includes(value);
}

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/**
 * Every allowed move. `processing → pending` is a retry, a lost lease or a graceful release;
 * `pending → failed` is a task whose retries ran out while it waited (a swept lease).
 * Terminal statuses never move again.
 */
export const TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  pending: ['processing', 'cancelled', 'failed'],
  processing: ['pending', 'completed', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses from which a client may cancel (the seed: completed or failed tasks cannot be). */
export const CANCELLABLE_STATUSES: readonly TaskStatus[] = ['pending', 'processing'];

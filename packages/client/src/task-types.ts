import type { CancelTaskMutation, QueueFieldsFragment, SortOrder, SubmitTaskInput, TaskFieldsFragment, TaskStatus } from './generated/graphql.ts';
import type { JsonValue } from './json-value.ts';

export type { TaskStatus, SortOrder };

/**
 * A task as the client hands it out: every field of the schema's `Task`, typed by codegen.
 * `queue` (a pending task's place) comes with `get`, `list`, `watch` and `watchAll`.
 */
export type Task = TaskFieldsFragment & Partial<QueueFieldsFragment>;

/** Why a task's last attempt failed. */
export type TaskErrorInfo = NonNullable<Task['error']>;

/** The statuses a task never leaves. */
export type TerminalStatus = Extract<TaskStatus, 'COMPLETED' | 'FAILED' | 'CANCELLED'>;

/** A task known to be in one status; `TaskIn<'COMPLETED'>` narrows what `waitFor` resolves to. */
export type TaskIn<S extends TaskStatus> = Task & { status: S };

/** A completed task: `result` holds the handler's output. */
export type CompletedTask = TaskIn<'COMPLETED'> & { result: JsonValue };

/** A failed task: `error` says why. */
export type FailedTask = TaskIn<'FAILED'> & { error: TaskErrorInfo };

export type CancelledTask = TaskIn<'CANCELLED'>;

const TERMINAL: ReadonlySet<TaskStatus> = new Set<TaskStatus>(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Whether the task has reached a status it never leaves. */
export function isTerminal(task: Pick<Task, 'status'>): task is Task & { status: TerminalStatus } {
  return TERMINAL.has(task.status);
}

/** What `submit` takes: the schema's input, with `input` as JSON and `runAt` as a Date or an RFC 3339 string. */
export type SubmitInput = Omit<SubmitTaskInput, 'runAt' | 'input'> & {
  input?: JsonValue | undefined;
  runAt?: Date | string | null | undefined;
};

/** What `cancel` answers: the task (now CANCELLED) and whether an earlier call had cancelled it already. */
export type CancelResult = Omit<NonNullable<CancelTaskMutation['cancelTask']>, 'task'> & { task: CancelledTask };

/** Which tasks `list` returns. Every field is optional; arrays match any of their values. */
export interface ListFilter {
  status?: TaskStatus | readonly TaskStatus[] | undefined;
  kind?: string | readonly string[] | undefined;
  /** Creation order. @default 'ASC' (oldest first) */
  order?: SortOrder | undefined;
  createdAfter?: Date | string | undefined;
  createdBefore?: Date | string | undefined;
  /** Only tasks whose metadata holds every one of these pairs. */
  metadata?: Record<string, string> | undefined;
  /** Tasks fetched per request, 1-1000. @default 100 */
  pageSize?: number | undefined;
  /** Stop after this many tasks in all. @default no limit */
  limit?: number | undefined;
}

/** Which tasks a bulk action (`cancelMatching`, `retryMatching`) concerns, one page at a time. */
export interface BulkFilter {
  status?: TaskStatus | readonly TaskStatus[] | undefined;
  kind?: string | readonly string[] | undefined;
  createdAfter?: Date | string | undefined;
  createdBefore?: Date | string | undefined;
  metadata?: Record<string, string> | undefined;
  /** Tasks per call, 1-1000. @default 1000 */
  pageSize?: number | undefined;
  /** The `nextCursor` of the previous call. */
  after?: string | null | undefined;
}

/** One page of a bulk action: how many tasks matched, how many it changed, and where to go on. */
export interface BulkResult {
  matched: number;
  changed: number;
  nextCursor: string | null;
}

/** One page of `listPage`. */
export interface TaskPage {
  tasks: Task[];
  /** Pass as `after` for the next page; null on the last page. */
  nextCursor: string | null;
}

import type { ColumnType, Generated } from 'kysely';
import type { JsonValue, TaskErrorInfo, TaskMetadata, TaskStatus, WebhookConfig } from '@tasklane/core';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

/** `tasklane.tasks`: one row per task, the only durable record of it. */
export interface TasksTable {
  id: string;
  kind: string;
  service: string | null;
  owner: string;
  status: TaskStatus;
  progress: Generated<number>;
  message: string | null;
  input: Json<JsonValue>;
  result: Json<JsonValue | null>;
  error: Json<TaskErrorInfo | null>;
  priority: Generated<number>;
  run_at: Timestamp;
  attempts: Generated<number>;
  max_attempts: number;
  lease_owner: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  started_at: Timestamp | null;
  completed_at: Timestamp | null;
  finished_at: Timestamp | null;
  webhook: Json<WebhookConfig | null>;
  metadata: Json<TaskMetadata | null>;
  retried_from: string | null;
  trace_parent: string | null;
  /** Its turn in the ready queue (0008); null while not due or not pending. bigint: pg gives text. */
  fair_rank: ColumnType<string | null, string | null | undefined, string | null>;
  /** The attempts that ended without ending the task (0013); see attempt-history.ts. */
  attempt_history: Json<unknown[] | null>;
  /** The worker of the last claim (0013): kept after completion clears lease_owner. */
  claimed_by: string | null;
}

/**
 * `tasklane.task_order` (0016): each task's place in creation order, the keys of the list
 * queries, kept off the task row so that its updates need no list index entries. Written and
 * removed by triggers on tasklane.tasks, never by the store.
 */
export interface TaskOrderTable {
  id: string;
  owner: string;
  created_at: Timestamp;
}

/** `tasklane.workers`: one row per live worker process; its lease covers all the tasks it holds. */
export interface WorkersTable {
  id: string;
  started_at: Timestamp;
  expires_at: Timestamp;
  /** The kinds this worker serves (0005); live while `expires_at` is ahead. */
  kinds: Generated<string[]>;
}

/** `tasklane.kinds`: every kind a worker has ever registered (0005). */
export interface KindsTable {
  kind: string;
  registered_at: Generated<Date>;
}

/** `tasklane.kind_pauses`: the kinds paused now (0012); no worker claims their pending tasks. */
export interface KindPausesTable {
  kind: string;
  paused_at: Generated<Date>;
  paused_by: string | null;
}

export interface Database {
  'tasklane.tasks': TasksTable;
  'tasklane.task_order': TaskOrderTable;
  'tasklane.workers': WorkersTable;
  'tasklane.kinds': KindsTable;
  'tasklane.kind_pauses': KindPausesTable;
}

/** The NOTIFY channel every task change is announced on. */
export const TASK_CHANNEL = 'tasklane_task';

/** The NOTIFY channel the webhook outbox trigger wakes senders on (0011). */
export const WEBHOOK_CHANNEL = 'tasklane_webhook';

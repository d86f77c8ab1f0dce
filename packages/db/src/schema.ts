import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type { JsonValue, TaskErrorInfo, TaskStatus } from '@tasklane/core';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** `tasklane.tasks`: one row per task, the only durable record of it. */
export interface TasksTable {
  id: string;
  kind: string;
  service: string | null;
  owner: string;
  status: TaskStatus;
  progress: Generated<number>;
  message: string | null;
  input: JSONColumnType<JsonValue, string, string>;
  result: JSONColumnType<JsonValue | null, string | null, string | null>;
  error: JSONColumnType<TaskErrorInfo | null, string | null, string | null>;
  priority: Generated<number>;
  run_at: Generated<Timestamp>;
  attempts: Generated<number>;
  max_attempts: number;
  lease_owner: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  version: Generated<number>;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
  started_at: Timestamp | null;
  completed_at: Timestamp | null;
  finished_at: Timestamp | null;
}

/** `tasklane.workers`: one row per live worker process; its lease covers all the tasks it holds. */
export interface WorkersTable {
  id: string;
  started_at: Generated<Timestamp>;
  expires_at: Timestamp;
}

export interface Database {
  'tasklane.tasks': TasksTable;
  'tasklane.workers': WorkersTable;
}

/** The NOTIFY channel every task change is announced on. */
export const TASK_CHANNEL = 'tasklane_task';

import type { Selectable } from 'kysely';
import { STATUS_MESSAGES, type JsonValue, type Task, type TaskErrorInfo } from '@tasklane/core';
import type { TasksTable } from './schema.ts';

/**
 * A `tasklane.tasks` row as `pg` returns it from `select *` or `returning *`: the Kysely table's
 * select side, so a column is declared once, in schema.ts. (A statement that selects fewer columns
 * and is typed as a TaskRow leaves those out at run time; `toTask` copies `webhook` only when set.)
 */
export type TaskRow = Selectable<TasksTable>;

export function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    kind: row.kind,
    service: row.service,
    owner: row.owner,
    status: row.status,
    progress: row.progress,
    message: row.message,
    input: row.input,
    result: row.result,
    error: row.error,
    priority: row.priority,
    runAt: row.run_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    leaseOwner: row.lease_owner,
    idempotencyKey: row.idempotency_key,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    finishedAt: row.finished_at,
    // Only when there is one: a claimed task (which never reads it) then equals a read one.
    ...(row.webhook ? { webhook: row.webhook } : {}),
    metadata: row.metadata ?? {},
    retriedFrom: row.retried_from,
  };
}

const SNAPSHOT_DATES = ['run_at', 'created_at', 'updated_at', 'started_at', 'completed_at', 'finished_at'] as const;

/**
 * The task as a webhook delivery recorded it at the change (`to_jsonb` of the row, without input):
 * timestamps come as text there.
 */
export function snapshotTask(snapshot: Record<string, unknown>): Task {
  const row = { ...snapshot, input: null } as unknown as TaskRow;
  for (const key of SNAPSHOT_DATES) {
    const value = snapshot[key];
    (row as unknown as Record<string, Date | null>)[key] = typeof value === 'string' ? new Date(value) : null;
  }
  row.version = Number(snapshot.version);
  return toTask(row);
}

/** A row of `tasklane.claim_fair` (and `claim_batch`): what a worker needs of a task it just claimed. */
export interface ClaimedRow {
  id: string;
  kind: string;
  service: string | null;
  owner: string;
  input: JsonValue;
  error: TaskErrorInfo | null;
  priority: number;
  attempts: number;
  max_attempts: number;
  idempotency_key: string | null;
  version: number | string;
  run_at_ms: number;
  created_at_ms: number;
  now_ms: number;
}

/** The task as the claim left it; the fields the claim itself set are filled in here, not read back. */
export function claimedTask(row: ClaimedRow, workerId: string): Task {
  const now = new Date(row.now_ms);
  return {
    id: row.id,
    kind: row.kind,
    service: row.service,
    owner: row.owner,
    status: 'processing',
    progress: 0,
    message: STATUS_MESSAGES.processing,
    input: row.input,
    result: null,
    error: row.error,
    priority: row.priority,
    runAt: new Date(row.run_at_ms),
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    leaseOwner: workerId,
    idempotencyKey: row.idempotency_key,
    version: Number(row.version),
    createdAt: new Date(row.created_at_ms),
    updatedAt: now,
    startedAt: new Date(row.now_ms),
    completedAt: null,
    finishedAt: null,
    // The claim does not send these back; a handler reads the task's metadata from the store.
    metadata: {},
    retriedFrom: null,
  };
}

import type pg from 'pg';
import { TaskNotFoundError, TaskNotRetryableError, isTaskId, newTaskId, type Task, type TaskStatus } from '@tasklane/core';
import { announce, type ChangeListener, type ChangePublishing } from './change-publisher.ts';
import { TaskStore, type ListFilter, type Scope } from './task-store.ts';
import { toTask, type TaskRow } from './task-row.ts';
import { MESSAGE_SQL } from './status-message-sql.ts';

/** Most tasks one bulk call acts on; the answer's cursor continues from there. */
export const MAX_BULK_LIMIT = 1000;
export const DEFAULT_BULK_LIMIT = 1000;

/** Which tasks a bulk action concerns: the list filter without its paging and order. */
export type BulkFilter = Omit<ListFilter, 'order' | 'limit' | 'after'>;

export interface BulkPage {
  limit?: number | undefined;
  /** The `nextCursor` of the previous call. */
  after?: string | undefined;
}

export interface BulkResult {
  /** Tasks in this call's page that match the filter. */
  matched: number;
  /** Of those, the ones this call cancelled or re-ran. */
  changed: number;
  /** Pass as `after` to act on the next page; null when this page was the last. */
  nextCursor: string | null;
}

const RETRYABLE: readonly TaskStatus[] = ['failed', 'cancelled'];

interface RetriedRow {
  source: string;
  row: TaskRow;
}

/**
 * What operators do to tasks after the fact: re-run them and act on many at once. Bulk actions go
 * a bounded page at a time, in creation order, so no statement holds many row locks for long
 * (claims skip locked rows; they never wait behind a bulk call).
 */
export class TaskOperations {
  private readonly onChanges: ChangeListener | undefined;

  constructor(
    private readonly store: TaskStore,
    private readonly pool: pg.Pool,
    { onChanges }: ChangePublishing = {},
  ) {
    this.onChanges = onChanges;
  }

  /**
   * A new task with the same kind, service, input, priority, attempts allowed and metadata as a
   * failed or cancelled one, linked to it by `retriedFrom`. The original is left as it was.
   */
  async retry(id: string, scope: Scope = {}): Promise<Task> {
    const original = await this.store.getOrThrow(id, scope);
    if (!RETRYABLE.includes(original.status)) throw new TaskNotRetryableError(id, original.status);
    const [retried] = await this.insertRetries([original]);
    if (retried) return toTask(retried.row);
    // Raced: someone re-ran it first, or it is no longer retryable (deleted by retention, say).
    const existing = await this.retryOf(id);
    if (existing) throw new TaskNotRetryableError(id, original.status, existing);
    throw new TaskNotFoundError(id);
  }

  /** Cancels the pending and processing tasks among one page of those matching the filter. */
  async cancelMatching(filter: BulkFilter & Scope, page: BulkPage = {}): Promise<BulkResult> {
    const { tasks, nextCursor } = await this.page(filter, page);
    const open = tasks.filter((t) => t.status === 'pending' || t.status === 'processing').map((t) => t.id);
    if (open.length === 0) return { matched: tasks.length, changed: 0, nextCursor };
    // Status checked again here: a task may have finished since the page was read.
    const { rows } = await this.pool.query<{ id: string; version: string; status: TaskStatus }>(
      `update tasklane.tasks
         set status = 'cancelled', message = ${MESSAGE_SQL.cancelled}, finished_at = now(), lease_owner = null
       where id = any($1::text[]) and status in ('pending', 'processing')
       returning id, version, status`,
      [open],
    );
    announce(this.onChanges, rows);
    return { matched: tasks.length, changed: rows.length, nextCursor };
  }

  /**
   * Re-runs the failed and cancelled tasks (not already re-run) among one page of those matching
   * the filter. `beforeInsert` is told how many tasks may be created and may refuse (a rate limit).
   */
  async retryMatching(filter: BulkFilter & Scope, page: BulkPage = {}, beforeInsert?: (count: number) => Promise<void>): Promise<BulkResult> {
    const { tasks, nextCursor } = await this.page(filter, page);
    const candidates = tasks.filter((t) => RETRYABLE.includes(t.status));
    if (candidates.length > 0) await beforeInsert?.(candidates.length);
    const retried = await this.insertRetries(candidates);
    return { matched: tasks.length, changed: retried.length, nextCursor };
  }

  private async page(filter: BulkFilter & Scope, { limit = DEFAULT_BULK_LIMIT, after }: BulkPage) {
    return this.store.list({ ...filter, limit: Math.min(limit, MAX_BULK_LIMIT), after, order: 'asc' });
  }

  /**
   * One statement for the lot: each source task still retryable and not yet re-run gets a new row
   * (the unique index on retried_from settles races between two retries of the same task).
   */
  private async insertRetries(sources: readonly Task[]): Promise<RetriedRow[]> {
    if (sources.length === 0) return [];
    const { rows } = await this.pool.query<TaskRow & { source: string }>(
      // The sources are found by \`id = any(...)\` (a primary-key lookup) before the join: joined to
      // unnest directly, a plan on stale statistics can scan the table once per source row.
      `with source as (
         select * from tasklane.tasks where id = any($1::text[]) and status in ('failed', 'cancelled')
       )
       insert into tasklane.tasks
         (id, kind, service, owner, status, message, input, priority, run_at, max_attempts, metadata, retried_from)
       select m.new_id, t.kind, t.service, t.owner, 'pending', ${MESSAGE_SQL.pending}, t.input, t.priority, now(), t.max_attempts,
              t.metadata, t.id
       from source t
       join unnest($1::text[], $2::text[]) as m(source, new_id) on m.source = t.id
       on conflict (retried_from) where retried_from is not null do nothing
       returning *, retried_from as source`,
      [sources.map((t) => t.id), sources.map((t) => newTaskId(t.kind))],
    );
    announce(this.onChanges, rows);
    return rows.map((row) => ({ source: row.source, row }));
  }

  private async retryOf(id: string): Promise<string | undefined> {
    if (!isTaskId(id)) return undefined;
    const { rows } = await this.pool.query<{ id: string }>('select id from tasklane.tasks where retried_from = $1', [id]);
    return rows[0]?.id;
  }
}

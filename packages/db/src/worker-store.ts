import type pg from 'pg';
import { clampMessage } from '@tasklane/core';
import type { ConcurrencyCaps, JsonValue, Task, TaskErrorInfo, TaskStatus } from '@tasklane/core';
import { appendAttemptSql } from './attempt-history.ts';
import { retryRunAtSql } from './retry-delay.ts';
import { claimedTask, type ClaimedRow } from './task-row.ts';
import { announce, type ChangeListener, type ChangePublishing } from './change-publisher.ts';
import { runStatement } from './statements.ts';
import { MESSAGE_SQL } from './status-message-sql.ts';

type ChangedRow = { id: string; version: number; status: TaskStatus };

const CLAIM = 'select * from tasklane.claim_fair($1, $2, $3::text[], $4, $5::jsonb, $6, $7, $8)';

/** Identifies one attempt of one task held by one worker: the fencing token for every write. */
export interface Held {
  id: string;
  attempt: number;
}

export interface Completion extends Held {
  result: JsonValue;
  /** `result` already serialized (the worker has it from checking the value): saves a second pass. */
  resultJson?: string;
  service?: string | null;
}

export interface Failure extends Held {
  error: TaskErrorInfo;
  /** The last progress the handler reported, kept on the failed task as the seed shows. */
  progress?: number;
}

export interface WorkerStoreOptions extends ChangePublishing {
  workerId: string;
  leaseSeconds: number;
  /** First retry delay; later retries double it, with jitter. @default 1 */
  retryBaseSeconds?: number;
  /**
   * The kinds this worker serves, registered with every heartbeat: the API refuses kinds no worker
   * has registered, and says so on pending tasks whose kinds no live worker serves. @default []
   */
  kinds?: readonly string[];
}

/**
 * What a worker process does to the tasks it runs. Every write after the claim is fenced by the
 * lease owner and the attempt number, so a worker that lost a task (swept, cancelled, or retried
 * elsewhere) cannot change it.
 */
export class WorkerStore {
  readonly workerId: string;
  readonly leaseSeconds: number;
  readonly retryBaseSeconds: number;
  readonly kinds: readonly string[];
  private readonly onChanges: ChangeListener | undefined;

  constructor(
    readonly pool: pg.Pool,
    { workerId, leaseSeconds, retryBaseSeconds = 1, kinds = [], onChanges }: WorkerStoreOptions,
  ) {
    this.onChanges = onChanges;
    this.kinds = [...kinds];
    this.workerId = workerId;
    this.leaseSeconds = leaseSeconds;
    this.retryBaseSeconds = retryBaseSeconds;
  }

  /** The stored trace contexts of these tasks (those submitted while tracing), by id. */
  async traceParents(ids: readonly string[]): Promise<Map<string, string>> {
    const { rows } = await this.pool.query<{ id: string; trace_parent: string }>(
      'select id, trace_parent from tasklane.tasks where id = any($1::text[]) and trace_parent is not null',
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.trace_parent]));
  }

  /**
   * Claims up to `max` runnable tasks of the given kinds, within the cluster-wide caps (per owner
   * too), in the fair order: priority first, then turns among the owners waiting, each owner FIFO.
   */
  async claim(max: number, kinds: readonly string[], caps: ConcurrencyCaps): Promise<Task[]> {
    if (max <= 0 || kinds.length === 0) return [];
    const values = [this.workerId, max, kinds, caps.total, JSON.stringify(caps.perKind), caps.perOwner ?? null, this.leaseSeconds, true];
    let rows: ClaimedRow[];
    try {
      rows = (await runStatement<ClaimedRow>(this.pool, { name: 'tasklane_claim', text: CLAIM, values })).rows;
    } catch (error) {
      // A claim without the cap lock found the caps close after all: claim again, taking turns.
      if ((error as { code?: string }).code !== 'TL001') throw error;
      values[7] = false;
      rows = (await runStatement<ClaimedRow>(this.pool, { name: 'tasklane_claim', text: CLAIM, values })).rows;
    }
    const tasks = rows.map((row) => claimedTask(row, this.workerId));
    announce(this.onChanges, tasks);
    return tasks;
  }

  /**
   * Renews this worker's lease, which covers every task it holds: one write per worker, however
   * many tasks. It also (re)registers the worker's kinds, so the lease is their liveness too, and
   * a worker whose row was swept while the database was away is registered again. Returns the
   * held attempts it no longer owns (cancelled, swept, or gone).
   */
  async heartbeat(held: readonly Held[]): Promise<string[]> {
    const { rows } = await runStatement<{ id: string }>(this.pool, {
      name: 'tasklane_heartbeat',
      text: `with renewed as (
               insert into tasklane.workers as w (id, expires_at, kinds) values ($1, now() + make_interval(secs => $2), $5::text[])
               -- A heartbeat that names no kinds (an HTTP worker's: its claims name them) keeps those registered.
               on conflict (id) do update set expires_at = excluded.expires_at,
                 kinds = case when cardinality(excluded.kinds) > 0 then excluded.kinds else w.kinds end
               returning id
             ), registered as (
               insert into tasklane.kinds (kind) select unnest($5::text[]) on conflict do nothing
             )
             select h.id from unnest($3::text[], $4::int[]) as h(id, attempt)
             where not exists (
               select 1 from tasklane.tasks t
               where t.id = h.id and t.status = 'processing' and t.lease_owner = $1 and t.attempts = h.attempt
             ) and exists (select 1 from renewed)`,
      values: [this.workerId, this.leaseSeconds, held.map((h) => h.id), held.map((h) => h.attempt), this.kinds],
    });
    return rows.map((r) => r.id);
  }

  /** Registers `kinds` as served by this worker, renewing its lease: what a heartbeat does for its own kinds. */
  async register(kinds: readonly string[]): Promise<void> {
    if (kinds.length === 0) return;
    await this.pool.query(
      `with renewed as (
         insert into tasklane.workers as w (id, expires_at, kinds) values ($1, now() + make_interval(secs => $2), $3::text[])
         on conflict (id) do update set expires_at = excluded.expires_at, kinds = excluded.kinds
         returning id
       )
       insert into tasklane.kinds (kind) select unnest($3::text[]) on conflict do nothing`,
      [this.workerId, this.leaseSeconds, kinds],
    );
  }

  /** Records progress; false when this worker no longer holds the attempt. */
  async progress(held: Held, progress: number, message: string | null): Promise<boolean> {
    const { rows } = await runStatement<ChangedRow>(this.pool, {
      name: 'tasklane_progress',
      text: `update tasklane.tasks set progress = $4, message = coalesce($5, message)
             where id = $1 and status = 'processing' and lease_owner = $2 and attempts = $3
             returning id, version, status`,
      values: [held.id, this.workerId, held.attempt, Math.max(0, Math.min(100, Math.round(progress))), message === null ? null : clampMessage(message)],
    });
    announce(this.onChanges, rows);
    return rows.length === 1;
  }

  /** Completes many attempts in one statement; returns the ids that were still held (and so completed). */
  async complete(completions: readonly Completion[]): Promise<Set<string>> {
    if (completions.length === 0) return new Set();
    const { rows } = await runStatement<ChangedRow>(this.pool, {
      name: 'tasklane_complete',
      text: `update tasklane.tasks t
               set status = 'completed', progress = 100, result = x.result, service = coalesce(x.service, t.service),
                   message = ${MESSAGE_SQL.completed}, error = null, lease_owner = null,
                   completed_at = now(), finished_at = now(), version = t.version + 1, updated_at = now()
             from jsonb_to_recordset($2::jsonb) as x(id text, attempt int, result jsonb, service text)
             where t.id = x.id and t.status = 'processing' and t.lease_owner = $1 and t.attempts = x.attempt
             returning t.id, t.version, t.status`,
      values: [this.workerId, completionsJson(completions)],
    });
    announce(this.onChanges, rows);
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Fails an attempt. A retryable error with attempts left sends the task back to pending after an
   * exponential backoff with jitter; otherwise the task fails for good. Returns the new status, or
   * undefined when this worker no longer holds the attempt.
   */
  async fail(failure: Failure): Promise<'pending' | 'failed' | undefined> {
    const { rows } = await runStatement<ChangedRow & { status: 'pending' | 'failed' }>(this.pool, {
      name: 'tasklane_fail',
      text: `update tasklane.tasks t
               set status = case when $4::boolean and t.attempts < t.max_attempts then 'pending' else 'failed' end,
                   run_at = case when $4::boolean and t.attempts < t.max_attempts
                     then ${retryRunAtSql('$7')}
                     else t.run_at end,
                   finished_at = case when $4::boolean and t.attempts < t.max_attempts then null else now() end,
                   error = $5::jsonb, message = $6, progress = coalesce($8, t.progress), lease_owner = null,
                   ${appendAttemptSql('failed', '$5::jsonb', '$4::boolean and t.attempts < t.max_attempts')}
             where t.id = $1 and t.status = 'processing' and t.lease_owner = $2 and t.attempts = $3
             returning t.id, t.version, t.status`,
      values: [
        failure.id,
        this.workerId,
        failure.attempt,
        failure.error.retryable,
        JSON.stringify({ ...failure.error, message: clampMessage(failure.error.message) }),
        clampMessage(failure.error.message),
        this.retryBaseSeconds,
        // Whole percents, as progress() stores them: the column is an integer.
        failure.progress === undefined ? null : Math.max(0, Math.min(100, Math.round(failure.progress))),
      ],
    });
    announce(this.onChanges, rows);
    return rows[0]?.status;
  }

  /** Which of these tasks are cancelled: a lost heartbeat tells a cancel from a sweep by it. */
  async cancelledAmong(ids: readonly string[]): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ id: string }>("select id from tasklane.tasks where id = any($1::text[]) and status = 'cancelled'", [ids]);
    return new Set(rows.map((row) => row.id));
  }

  /** Gives held tasks back to pending without spending their attempt (graceful shutdown). */
  async release(held: readonly Held[]): Promise<number> {
    if (held.length === 0) return 0;
    const { rows } = await this.pool.query<ChangedRow>(
      `update tasklane.tasks t
         set status = 'pending', attempts = t.attempts - 1, lease_owner = null, started_at = null, progress = 0,
             message = 'Task released by a stopping worker; waiting to restart', ${appendAttemptSql('released', 'null')}
       from unnest($2::text[], $3::int[]) as h(id, attempt)
       where t.id = h.id and t.status = 'processing' and t.lease_owner = $1 and t.attempts = h.attempt
       returning t.id, t.version, t.status`,
      [this.workerId, held.map((h) => h.id), held.map((h) => h.attempt)],
    );
    announce(this.onChanges, rows);
    return rows.length;
  }

  /**
   * Gives back, without spending their attempt, tasks this worker holds but did not list among
   * `held`, claimed more than `olderThanSeconds` ago: a worker that never got a claim's answer
   * (the connection dropped on the way back) would otherwise keep them leased, unrun, for as long
   * as it lives. Returns their ids.
   */
  async releaseUnlisted(held: readonly Held[], olderThanSeconds: number): Promise<string[]> {
    const { rows } = await runStatement<ChangedRow>(this.pool, {
      name: 'tasklane_release_unlisted',
      text: `update tasklane.tasks t
               set status = 'pending', attempts = t.attempts - 1, lease_owner = null, started_at = null, progress = 0,
                   message = 'Task released: its worker did not know it held it; waiting to restart',
                   ${appendAttemptSql('released', 'null')}
             where t.status = 'processing' and t.lease_owner = $1 and t.started_at < now() - make_interval(secs => $2)
               and t.id <> all($3::text[])
             returning t.id, t.version, t.status`,
      values: [this.workerId, olderThanSeconds, held.map((h) => h.id)],
    });
    announce(this.onChanges, rows);
    return rows.map((r) => r.id);
  }

  /** Removes this worker's lease row (on clean shutdown, after releasing its tasks). */
  async unregister(): Promise<void> {
    await this.pool.query('delete from tasklane.workers where id = $1', [this.workerId]);
  }
}

/** The batch as one JSON array for jsonb_to_recordset, reusing each result's serialized text. */
function completionsJson(completions: readonly Completion[]): string {
  let json = '[';
  for (let i = 0; i < completions.length; i++) {
    const c = completions[i]!;
    const result = c.resultJson ?? JSON.stringify(c.result ?? null);
    json += `${i === 0 ? '' : ','}{"id":${JSON.stringify(c.id)},"attempt":${c.attempt},"result":${result},"service":${JSON.stringify(c.service ?? null)}}`;
  }
  return `${json}]`;
}

import type pg from 'pg';
import { MAX_RECORDED_ATTEMPTS, type AttemptOutcome, type TaskAttempt, type TaskErrorInfo } from '@tasklane/core';
import type { Scope } from './task-store.ts';

type EndedOutcome = Extract<AttemptOutcome, 'failed' | 'lost' | 'released'>;

/**
 * The assignment that records the attempt `t` (the tasks row, as it was before the UPDATE) as
 * ended now with `outcome` and the error `errorSql` (SQL, jsonb or null): a piece of the UPDATE
 * that already ends the attempt, so recording it costs no statement. With `whenSql` it records only
 * where that holds (a failure that is retried; a final one is the row itself). The oldest entries
 * go once MAX_RECORDED_ATTEMPTS are kept.
 */
export function appendAttemptSql(outcome: EndedOutcome, errorSql: string, whenSql?: string): string {
  const kept = `case when jsonb_array_length(coalesce(t.attempt_history, '[]'::jsonb)) >= ${MAX_RECORDED_ATTEMPTS}
                  then t.attempt_history - 0 else coalesce(t.attempt_history, '[]'::jsonb) end`;
  const appended = `${kept} || jsonb_build_array(jsonb_build_object('attempt', t.attempts, 'worker', t.lease_owner,
                  'started_at', t.started_at, 'ended_at', now(), 'outcome', '${outcome}', 'error', ${errorSql}))`;
  return `attempt_history = ${whenSql ? `case when ${whenSql} then ${appended} else t.attempt_history end` : appended}`;
}

interface AttemptRow {
  task_id: string;
  attempt: number;
  worker: string | null;
  started_at: Date;
  ended_at: Date | null;
  outcome: AttemptOutcome;
  error: TaskErrorInfo | null;
}

/**
 * Every attempt of each of these tasks, oldest first, by task id (an empty list for a task out of
 * `scope`, unknown, or never claimed). The recorded ones, then the row's own attempt unless it is already among them: a
 * pending task has none running, and a retried one still carries its last start (a release
 * clears it), so an attempt whose start is the last recorded one's is that one.
 */
export async function attemptHistories(pool: pg.Pool, ids: readonly string[], scope: Scope = {}): Promise<Map<string, TaskAttempt[]>> {
  const { rows } = await pool.query<AttemptRow>(
    `select t.id as task_id, (a.entry ->> 'attempt')::int as attempt, a.entry ->> 'worker' as worker,
       (a.entry ->> 'started_at')::timestamptz as started_at, (a.entry ->> 'ended_at')::timestamptz as ended_at,
       a.entry ->> 'outcome' as outcome, nullif(a.entry -> 'error', 'null'::jsonb) as error
     from tasklane.tasks t
     cross join lateral jsonb_array_elements(
       coalesce(t.attempt_history, '[]'::jsonb) ||
       case when t.status <> 'pending' and t.started_at is not null
              and (t.attempt_history -> -1 ->> 'started_at')::timestamptz is distinct from t.started_at
         then jsonb_build_array(jsonb_build_object('attempt', t.attempts, 'worker', coalesce(t.claimed_by, t.lease_owner),
           'started_at', t.started_at,
           'ended_at', case when t.status = 'processing' then null else coalesce(t.finished_at, t.completed_at) end,
           'outcome', case when t.status = 'processing' then 'running' else t.status end,
           'error', case when t.status = 'failed' then t.error end))
         else '[]'::jsonb end
     ) with ordinality as a(entry, n)
     where t.id = any($1::text[]) and ($2::text is null or t.owner = $2)
     order by t.id, a.n`,
    [ids, scope.owner ?? null],
  );
  const byTask = new Map<string, TaskAttempt[]>(ids.map((id) => [id, []]));
  for (const row of rows) {
    byTask.get(row.task_id)?.push({
      attempt: row.attempt,
      worker: row.worker,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      outcome: row.outcome,
      error: row.error,
    });
  }
  return byTask;
}

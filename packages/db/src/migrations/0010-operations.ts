import { type Kysely, sql } from 'kysely';

/**
 * What operators need once a queue runs in production: metadata to find tasks by, the link
 * from a re-run task to the one it repeats, and the trace a task belongs to.
 *
 * The columns stay null for tasks that do not use them, so the hot paths (submit, claim,
 * complete) write and index nothing more for them: the indexes are partial.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // String keys to string values, at most 16 pairs (checked on submit); null when none.
  await sql`alter table tasklane.tasks add column metadata jsonb`.execute(db);
  // The task this one re-runs (`POST /tasks/{id}/retry`). No foreign key: retention deletes old
  // tasks one by one, and a re-run outlives the task it came from.
  await sql`alter table tasklane.tasks add column retried_from text`.execute(db);
  // The W3C traceparent of the submit's span, when the submitting process traces: each attempt's
  // span is its child, so one trace holds the whole path. Null when tracing is off.
  await sql`alter table tasklane.tasks add column trace_parent text`.execute(db);
  // `metadata @> '{"k":"v"}'` filters: jsonb_path_ops indexes each key/value path, the smallest
  // GIN opclass for containment. Queries add `metadata is not null` so the planner can use it.
  await sql`create index tasks_metadata on tasklane.tasks using gin (metadata jsonb_path_ops) where metadata is not null`.execute(db);
  // A task is re-run at most once (a second retry, or a bulk retry run twice, would duplicate it).
  await sql`create unique index tasks_retried_from on tasklane.tasks (retried_from) where retried_from is not null`.execute(db);
}

import { type Kysely, sql } from 'kysely';

/**
 * The creation order of tasks moves to a table of its own, written once per task.
 *
 * Claims and completions are non-HOT updates (status, lease_owner and fair_rank are indexed, and
 * the claim queue needs them to be), so each one inserts a new entry into every index of
 * tasklane.tasks. The two list indexes, (created_at, id) and (owner, created_at, id), cost about
 * a third of the Postgres CPU per task (34 against 22 µs per claim and completion in
 * bench/src/tools/sql-timing.ts), and, because a fair claim takes tasks from many owners at
 * once, whose rows lie apart, most of what fairness cost. Their keys never change, so they need
 * no new entry per update: kept in tasklane.task_order, they are written when a task is inserted
 * and removed when it is deleted, by statement triggers, so that every writer (submit, bulk
 * submit, retry, re-run, retention, an operator's SQL) keeps them right with no change.
 *
 * A restore (pg_restore, or a plain dump through psql) loads both tables' rows before it creates
 * the triggers, so task_order comes back from the dump, once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table tasklane.task_order (
      id text not null,
      owner text not null,
      created_at timestamptz(3) not null
    )
  `.execute(db);
  // Unique, and no separate key on id: each index is one more entry per submitted task, and the
  // list and the delete trigger both find an entry by (created_at, id).
  await sql`create unique index task_order_created on tasklane.task_order (created_at, id)`.execute(db);
  await sql`create index task_order_owner_created on tasklane.task_order (owner, created_at, id)`.execute(db);
  await sql`insert into tasklane.task_order (id, owner, created_at) select id, owner, created_at from tasklane.tasks`.execute(db);

  await sql`
    create function tasklane.task_order_insert() returns trigger language plpgsql as $$
    begin
      insert into tasklane.task_order (id, owner, created_at)
        select n.id, n.owner, n.created_at from new_rows n;
      return null;
    end $$
  `.execute(db);
  await sql`
    create trigger tasks_order_insert after insert on tasklane.tasks
      referencing new table as new_rows for each statement execute function tasklane.task_order_insert()
  `.execute(db);
  await sql`
    create function tasklane.task_order_delete() returns trigger language plpgsql as $$
    begin
      delete from tasklane.task_order o using old_rows d where o.created_at = d.created_at and o.id = d.id;
      return null;
    end $$
  `.execute(db);
  await sql`
    create trigger tasks_order_delete after delete on tasklane.tasks
      referencing old table as old_rows for each statement execute function tasklane.task_order_delete()
  `.execute(db);
  await sql`
    create function tasklane.task_order_truncate() returns trigger language plpgsql as $$
    begin
      truncate tasklane.task_order;
      return null;
    end $$
  `.execute(db);
  await sql`
    create trigger tasks_order_truncate after truncate on tasklane.tasks
      for each statement execute function tasklane.task_order_truncate()
  `.execute(db);

  await sql`drop index tasklane.tasks_created`.execute(db);
  await sql`drop index tasklane.tasks_owner_created`.execute(db);
}

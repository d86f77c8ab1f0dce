import { type Kysely, sql } from 'kysely';
import { AdvisoryLock } from '../advisory-locks.ts';

/**
 * The task table, the worker lease table, and the trigger that bumps `version` and announces
 * every change on the `tasklane_task` channel in the same transaction.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table tasklane.tasks (
      id text primary key,
      kind text not null,
      service text,
      owner text not null,
      status text not null check (status in ('pending', 'processing', 'completed', 'failed', 'cancelled')),
      progress smallint not null default 0 check (progress between 0 and 100),
      message text,
      input jsonb not null default '{}',
      result jsonb,
      error jsonb,
      priority integer not null default 0,
      run_at timestamptz not null default now(),
      attempts integer not null default 0,
      max_attempts integer not null default 3 check (max_attempts >= 1),
      lease_owner text,
      idempotency_key text,
      request_hash text,
      version bigint not null default 1,
      -- Millisecond precision, as JavaScript dates carry: list cursors round-trip exactly.
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz not null default now(),
      started_at timestamptz,
      completed_at timestamptz,
      finished_at timestamptz
    )
  `.execute(db);

  // The claim path reads only runnable rows, the sweep and the caps only processing ones: partial
  // indexes keep both independent of how much finished history the table holds.
  await sql`create index tasks_runnable on tasklane.tasks (priority desc, run_at, id) where status = 'pending'`.execute(db);
  await sql`create index tasks_processing on tasklane.tasks (lease_owner, kind) where status = 'processing'`.execute(db);
  await sql`create index tasks_created on tasklane.tasks (created_at, id)`.execute(db);
  await sql`create index tasks_owner_created on tasklane.tasks (owner, created_at, id)`.execute(db);
  await sql`create index tasks_finished on tasklane.tasks (finished_at) where finished_at is not null`.execute(db);
  await sql`
    create unique index tasks_idempotency on tasklane.tasks (owner, idempotency_key) where idempotency_key is not null
  `.execute(db);

  await sql`
    create table tasklane.workers (
      id text primary key,
      started_at timestamptz not null default now(),
      expires_at timestamptz not null
    )
  `.execute(db);

  // Row trigger: every visible change gets a new version and updated_at, whoever writes it.
  await sql`
    create function tasklane.bump_version() returns trigger language plpgsql as $$
    begin
      new.version := old.version + 1;
      new.updated_at := now();
      return new;
    end $$
  `.execute(db);
  await sql`
    create trigger tasks_bump_version before update on tasklane.tasks
    for each row when (old.* is distinct from new.*) execute function tasklane.bump_version()
  `.execute(db);

  // Statement trigger: one NOTIFY per 90 changed rows instead of one per row, so a bulk submit of
  // 50,000 tasks sends a few hundred notifications. Each entry is "id:version:s" with s the
  // status's first letter (p, r = processing, c, f, x = cancelled); 90 of the longest possible
  // entries stay under NOTIFY's 8,000-byte limit. The payload is a wake-up, not the data:
  // listeners read the rows. Set-based, because a plpgsql loop over the rows costs per row.
  await sql`
    create function tasklane.notify_changes() returns trigger language plpgsql as $$
    begin
      perform pg_notify('tasklane_task', string_agg(e.entry, ' '))
      from (
        select n.id || ':' || n.version || ':' ||
            case n.status when 'processing' then 'r' when 'cancelled' then 'x' else left(n.status, 1) end as entry,
          (row_number() over () - 1) / 90 as chunk
        from new_rows n
      ) e
      group by e.chunk;
      return null;
    end $$
  `.execute(db);
  await sql`
    create trigger tasks_notify_insert after insert on tasklane.tasks
    referencing new table as new_rows for each statement execute function tasklane.notify_changes()
  `.execute(db);
  await sql`
    create trigger tasks_notify_update after update on tasklane.tasks
    referencing new table as new_rows for each statement execute function tasklane.notify_changes()
  `.execute(db);
  // Claiming. Cluster-wide caps need "count what runs, then take up to the room left" to be one
  // atomic step, or two workers could each see the last free slot and both take it; a transaction
  // advisory lock makes claims take turns (each claims a whole batch, so turns are short). Inside,
  // the de-facto queue SQL: one CTE that locks runnable rows with SKIP LOCKED, then one UPDATE.
  // The CTE also fences the planner: the UPDATE cannot touch more rows than the CTE's LIMIT.
  await sql`
    create function tasklane.claim(
      p_worker text, p_max integer, p_kinds text[], p_total_cap integer, p_kind_caps jsonb, p_lease_seconds integer
    ) returns setof tasklane.tasks language plpgsql
    -- Right after a bulk submit the statistics are stale and the planner may sort the whole backlog
    -- instead of walking tasks_runnable in order and stopping at the limit: forbid that here.
    set enable_bitmapscan = off set enable_seqscan = off
    as $$
    declare
      -- The numbers come from advisory-locks.ts, which says what each lock guards.
      c_cap_lock constant bigint := ${sql.lit(AdvisoryLock.claimCaps)};
      v_running integer;
      v_by_kind jsonb;
      v_room integer;
      v_left jsonb;
      v_full text[];
    begin
      perform pg_advisory_xact_lock(c_cap_lock);
      -- The lease row is written only when it is missing or half expired: a worker polling for work
      -- does not write on every poll (its heartbeat keeps it fresh).
      insert into tasklane.workers as w (id, expires_at) values (p_worker, now() + make_interval(secs => p_lease_seconds))
        on conflict (id) do update set expires_at = excluded.expires_at
        where w.expires_at < now() + make_interval(secs => p_lease_seconds / 2.0);
      select coalesce(sum(r.n), 0), coalesce(jsonb_object_agg(r.kind, r.n), '{}'::jsonb) into v_running, v_by_kind
        from (select kind, count(*) as n from tasklane.tasks where status = 'processing' group by kind) r;
      v_room := least(p_max, p_total_cap - v_running);
      if v_room <= 0 then
        return;
      end if;
      select coalesce(jsonb_object_agg(c.key, c.value::integer - coalesce((v_by_kind ->> c.key)::integer, 0)), '{}'::jsonb)
        into v_left from jsonb_each_text(p_kind_caps) c;
      select coalesce(array_agg(key), '{}') into v_full from jsonb_each_text(v_left) where value::integer <= 0;
      return query
        with candidates as (
          select t.id, t.kind, t.priority, t.run_at
          from tasklane.tasks t
          where t.status = 'pending' and t.run_at <= now() and t.kind = any(p_kinds) and t.kind <> all(v_full)
          order by t.priority desc, t.run_at, t.id
          limit v_room
          for update skip locked
        ), allowed as (
          select c.id from (
            select id, kind, row_number() over (partition by kind order by priority desc, run_at, id) as rn
            from candidates
          ) c
          where c.rn <= coalesce((v_left ->> c.kind)::integer, v_room)
        )
        update tasklane.tasks t
          set status = 'processing', attempts = t.attempts + 1, started_at = now(), lease_owner = p_worker,
              progress = 0, message = 'Task processing started'
          from allowed a
          where t.id = a.id
          returning t.*;
    end $$
  `.execute(db);
}

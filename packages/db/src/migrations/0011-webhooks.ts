import { type Kysely, sql } from 'kysely';

/**
 * Webhooks: a task's `webhook` ({url, events}), the per-owner signing secrets, the outbox of
 * deliveries and the log of their attempts.
 *
 * The outbox is written by a row trigger on tasklane.tasks, so every writer (claim, progress,
 * complete, fail, cancel, the lease sweep, and any future rewrite of them) records its delivery
 * in the transaction of the change itself. Its WHEN clause tests the webhook column first: for a
 * task without a webhook the trigger is never called and no event is queued.
 *
 * Ordering: deliveries of one task carry an increasing `seq`, and only the oldest waiting one of
 * a task is ever claimed (the head), so a later state cannot overtake an earlier one that is still
 * retrying. Each row holds the task as it was at the change (`snapshot`), so a retried
 * `processing` still says processing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Nullable without a default: adding it rewrites nothing, and rows without a webhook store nothing.
  await sql`alter table tasklane.tasks add column webhook jsonb`.execute(db);

  await sql`
    create table tasklane.webhook_secrets (
      owner text primary key,
      secret text not null,
      -- After a rotation the old secret signs too until previous_expires_at.
      previous_secret text,
      previous_expires_at timestamptz,
      created_at timestamptz not null default now()
    )
  `.execute(db);

  await sql`
    create table tasklane.webhook_deliveries (
      id text primary key,
      seq bigint generated always as identity,
      task_id text not null references tasklane.tasks (id) on delete cascade,
      owner text not null,
      url text not null,
      event text not null,
      snapshot jsonb not null,
      state text not null default 'waiting'
        check (state in ('waiting', 'delivered', 'failed', 'gone', 'stopped', 'superseded')),
      attempts integer not null default 0,
      due_at timestamptz not null default now(),
      locked_until timestamptz,
      changed_at timestamptz not null default now(),
      created_at timestamptz not null default now(),
      finished_at timestamptz,
      last_status integer,
      last_error text
    )
  `.execute(db);
  await sql`create index webhook_deliveries_due on tasklane.webhook_deliveries (due_at) where state = 'waiting'`.execute(db);
  await sql`create index webhook_deliveries_task on tasklane.webhook_deliveries (task_id, seq)`.execute(db);

  await sql`
    create table tasklane.webhook_attempts (
      delivery_id text not null references tasklane.webhook_deliveries (id) on delete cascade,
      attempt integer not null,
      task_id text not null,
      event text not null,
      started_at timestamptz not null,
      duration_ms integer not null,
      status_code integer,
      error text,
      outcome text not null check (outcome in ('delivered', 'failed', 'gone')),
      primary key (delivery_id, attempt)
    )
  `.execute(db);
  await sql`create index webhook_attempts_task on tasklane.webhook_attempts (task_id)`.execute(db);

  // Runs only for tasks with a webhook (see the trigger's WHEN). Progress is throttled here: a
  // progress delivery not yet attempted takes the newer snapshot instead of a second row, and a
  // new one is due no sooner than 2 s after the previous one was due or answered, so a receiver gets at most one per
  // 2 s and always the last value. The end of the task queues behind a throttled progress (at
  // most 2 s): it is never sent before a progress that came first.
  await sql`
    create function tasklane.webhook_outbox() returns trigger language plpgsql as $$
    declare
      v_event text;
      v_url text := new.webhook ->> 'url';
      v_snapshot jsonb;
      v_due timestamptz := now();
      v_last timestamptz;
    begin
      if new.status is distinct from old.status then
        if new.status = 'pending' then
          return null;
        end if;
        v_event := new.status;
      elsif new.status = 'processing' then
        v_event := 'progress';
      else
        return null;
      end if;
      if not coalesce(new.webhook -> 'events' ? v_event, false) then
        return null;
      end if;
      -- A 410 from this URL stopped deliveries of this task to it.
      if exists (select 1 from tasklane.webhook_deliveries d where d.task_id = new.id and d.state = 'gone' and d.url = v_url) then
        return null;
      end if;
      v_snapshot := to_jsonb(new) - 'input' - 'webhook' - 'request_hash';
      if v_event = 'progress' then
        update tasklane.webhook_deliveries d set snapshot = v_snapshot, changed_at = now()
          where d.task_id = new.id and d.state = 'waiting' and d.event = 'progress' and d.attempts = 0
            and d.seq = (select max(e.seq) from tasklane.webhook_deliveries e where e.task_id = new.id);
        if found then
          return null;
        end if;
        select max(greatest(d.due_at, d.finished_at)) into v_last from tasklane.webhook_deliveries d where d.task_id = new.id and d.event = 'progress';
        v_due := greatest(now(), v_last + interval '2 seconds');
      end if;
      insert into tasklane.webhook_deliveries (id, task_id, owner, url, event, snapshot, due_at)
        values ('msg_' || replace(gen_random_uuid()::text, '-', ''), new.id, new.owner, v_url, v_event, v_snapshot, v_due);
      -- A wake-up for the senders; identical payloads in one transaction merge into one.
      perform pg_notify('tasklane_webhook', '');
      return null;
    end $$
  `.execute(db);
  await sql`
    create trigger tasks_webhook_outbox after update on tasklane.tasks
    for each row when (
      new.webhook is not null
      and (old.status is distinct from new.status or old.progress is distinct from new.progress or old.message is distinct from new.message)
    )
    execute function tasklane.webhook_outbox()
  `.execute(db);
}

import { type Kysely, sql } from 'kysely';
import { AdvisoryLock, CLAIM_SLOTS } from '../advisory-locks.ts';

/**
 * Claims without taking turns when no cap can bind, and a claim that returns only what a worker
 * needs.
 *
 * Caps need "count what runs, then take up to the room left" to be atomic, which 0001 got by making
 * every claim hold one exclusive advisory lock: claims queued behind each other even with caps far
 * away. Now a claim first tries one of CLAIM_SLOTS "fast" slots (non-blocking). Holding one, it
 * counts what runs; if even CLAIM_SLOTS claims of its size on top of that fit under every cap it
 * may concern, it claims without the cap lock. That is safe: at most CLAIM_SLOTS fast claims are
 * in flight at once, each admitted only when the committed count plus CLAIM_SLOTS full batches
 * fits, and a slot is released only after its transaction's rows are visible. Everything else
 * (caps close, no slot free) takes the exclusive lock and then every slot, so it counts exactly
 * with no fast claim in flight. A fast claimer never waits on a lock while holding a slot; when
 * its count shows the caps are close after all it raises TL001 and the caller retries exclusively.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // The hot writers (claim, complete) bump version and updated_at in their own SET, which costs
  // nothing per row; the row trigger now only covers writers that do not, so it no longer runs a
  // plpgsql call and a whole-row comparison for every claimed and completed task. Every change
  // still gets a new version: either its statement bumped it or the trigger does.
  await sql`drop trigger tasks_bump_version on tasklane.tasks`.execute(db);
  await sql`
    create trigger tasks_bump_version before update on tasklane.tasks
    for each row when (old.version = new.version and old.* is distinct from new.*) execute function tasklane.bump_version()
  `.execute(db);

  // Returns the room this claim may fill and the per-kind room left (kinds at or over their cap
  // are in v_full). p_fast false forces the exclusive path.
  await sql`
    create function tasklane.claim_room(
      p_max integer, p_kinds text[], p_total_cap integer, p_kind_caps jsonb, p_fast boolean,
      out room integer, out kinds_left jsonb, out kinds_full text[]
    ) language plpgsql as $$
    declare
      -- The numbers come from advisory-locks.ts, which says what each lock and CLAIM_SLOTS guard.
      c_slots constant integer := ${sql.lit(CLAIM_SLOTS)};
      c_cap_lock constant bigint := ${sql.lit(AdvisoryLock.claimCaps)};
      c_slot_lock constant integer := ${sql.lit(AdvisoryLock.claimSlot)};
      v_running integer;
      v_by_kind jsonb;
      v_fast boolean := false;
      v_capped jsonb;
    begin
      -- The caps this claim can run into: the total, and those of the kinds it asks for.
      select coalesce(jsonb_object_agg(c.key, c.value), '{}'::jsonb) into v_capped
        from jsonb_each_text(p_kind_caps) c where c.key = any(p_kinds);
      if p_fast and p_max * c_slots <= p_total_cap
         and not exists (select 1 from jsonb_each_text(v_capped) c where c.value::integer < p_max * c_slots) then
        for i in 0 .. c_slots - 1 loop
          if pg_try_advisory_xact_lock(c_slot_lock, i) then
            v_fast := true;
            exit;
          end if;
        end loop;
      end if;
      if not v_fast then
        perform pg_advisory_xact_lock(c_cap_lock);
        perform pg_advisory_xact_lock(c_slot_lock, s.n) from generate_series(0, c_slots - 1) s(n);
      end if;
      select coalesce(sum(r.n), 0), coalesce(jsonb_object_agg(r.kind, r.n), '{}'::jsonb) into v_running, v_by_kind
        from (select t.kind, count(*) as n from tasklane.tasks t where t.status = 'processing' group by t.kind) r;
      select coalesce(jsonb_object_agg(c.key, c.value::integer - coalesce((v_by_kind ->> c.key)::integer, 0)), '{}'::jsonb)
        into kinds_left from jsonb_each_text(v_capped) c;
      if v_fast then
        if v_running + p_max * c_slots > p_total_cap
           or exists (select 1 from jsonb_each_text(kinds_left) c where c.value::integer < p_max * c_slots) then
          raise exception 'caps are close: claim again with the cap lock' using errcode = 'TL001';
        end if;
        room := p_max;
        kinds_full := '{}';
        return;
      end if;
      room := least(p_max, p_total_cap - v_running);
      select coalesce(array_agg(c.key), '{}') into kinds_full from jsonb_each_text(kinds_left) c where c.value::integer <= 0;
    end $$
  `.execute(db);

  // What a worker needs of a claimed task. Timestamps come as epoch milliseconds (cheap to turn
  // into dates, unlike timestamp text); status, progress, message, lease owner and the finished
  // fields are what the claim just set, so they are not sent back; result is null on every
  // claimable task.
  await sql`
    create function tasklane.claim_batch(
      p_worker text, p_max integer, p_kinds text[], p_total_cap integer, p_kind_caps jsonb, p_lease_seconds integer,
      p_fast boolean
    ) returns table (
      id text, kind text, service text, owner text, input jsonb, error jsonb, priority integer, attempts integer,
      max_attempts integer, idempotency_key text, version bigint, run_at_ms float8, created_at_ms float8, now_ms float8
    ) language plpgsql
    set enable_bitmapscan = off set enable_seqscan = off
    as $$
    #variable_conflict use_column
    declare
      v_room integer;
      v_left jsonb;
      v_full text[];
    begin
      insert into tasklane.workers as w (id, expires_at) values (p_worker, now() + make_interval(secs => p_lease_seconds))
        on conflict (id) do update set expires_at = excluded.expires_at
        where w.expires_at < now() + make_interval(secs => p_lease_seconds / 2.0);
      select r.room, r.kinds_left, r.kinds_full into v_room, v_left, v_full
        from tasklane.claim_room(p_max, p_kinds, p_total_cap, p_kind_caps, p_fast) r;
      if v_room <= 0 then
        return;
      end if;
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
              progress = 0, message = 'Task processing started', version = t.version + 1, updated_at = now()
          from allowed a
          where t.id = a.id
          returning t.id, t.kind, t.service, t.owner, t.input, t.error, t.priority, t.attempts, t.max_attempts,
            t.idempotency_key, t.version, (extract(epoch from t.run_at) * 1000)::float8,
            (extract(epoch from t.created_at) * 1000)::float8, (extract(epoch from now()) * 1000)::float8;
    end $$
  `.execute(db);

  // The claim 0001 defined, kept for processes still running the previous release (there was none;
  // 0009 drops it): now a thin wrapper over claim_batch, so it takes the same slots.
  await sql`
    create or replace function tasklane.claim(
      p_worker text, p_max integer, p_kinds text[], p_total_cap integer, p_kind_caps jsonb, p_lease_seconds integer
    ) returns setof tasklane.tasks language plpgsql
    as $$
    declare
      v_ids text[];
    begin
      select array_agg(b.id) into v_ids
        from tasklane.claim_batch(p_worker, p_max, p_kinds, p_total_cap, p_kind_caps, p_lease_seconds, false) b;
      -- A statement of its own, so its snapshot sees the rows as the claim left them.
      return query select t.* from tasklane.tasks t where t.id = any(v_ids);
    end $$
  `.execute(db);
}

import { type Kysely, sql } from 'kysely';

/**
 * The advisory lock that a claim counting the caps exactly holds. The same key as 0004's
 * claim_room, so claims of this release and of the previous one take turns with each other.
 */
const CAP_LOCK = 7414002;
/**
 * The fast-claim slots: (CLAIM_SLOT_LOCK, 0 .. CLAIM_SLOTS - 1). A claim far from every cap holds
 * one of them instead of CAP_LOCK; an exact claim takes all of them, so it never counts while a
 * fast claim's rows are still invisible. The same keys and number as 0004's claim_room.
 */
const CLAIM_SLOT_LOCK = 7414003;
const CLAIM_SLOTS = 8;
/** Due tasks the claim ranks into the ready queue per call (retries, scheduled starts, old rows). */
const PROMOTE_BATCH = 200;

const n = (value: number) => sql.raw(String(value));

/**
 * Fair queues: claims whose cost does not grow with any kind's or owner's backlog, claim order
 * that rotates among owners, and per-owner caps.
 *
 * The ready queue. A pending task that is due carries `fair_rank`, its turn within its kind and
 * priority; one not yet due (a scheduled start, a retry's backoff) has none and sits in a separate
 * index by run_at, so claims never walk past it. Claims move due tasks into the ready queue
 * (PROMOTE_BATCH at a time) and give back a claimed task's rank, so any path that returns a task
 * to pending (retry, lease sweep, release) leaves it to be ranked again when due.
 *
 * Fairness. An owner's next task gets the rank after its own last ready task of that kind and
 * priority, but never less than the rank of the queue's head: an owner with 200 queued tasks holds
 * ranks h .. h+199, and another owner's single task gets rank h and starts next but one. So the
 * claim order is round-robin among the owners with tasks queued, each owner FIFO, priority first,
 * and a claim is still one ordered index range per kind. (Least-running-first would have to count
 * every waiting owner's running tasks on every claim, which grows with the owners waiting.)
 * Two submits of one owner racing may get the same ranks; ties go by id, that is by submit time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table tasklane.tasks add column fair_rank bigint`.execute(db);
  await sql`alter table tasklane.api_keys add column max_concurrent integer check (max_concurrent >= 1)`.execute(db);

  // The ready queue in claim order, and each owner's last place in it (where its next task goes).
  await sql`
    create index tasks_ready on tasklane.tasks (kind, priority desc, fair_rank, id)
    where status = 'pending' and fair_rank is not null
  `.execute(db);
  await sql`
    create index tasks_ready_owner on tasklane.tasks (kind, priority, owner, fair_rank)
    where status = 'pending' and fair_rank is not null
  `.execute(db);
  // Read by every claim (owner caps from keys): an index, so it never sequential-scans under the
  // claim's enable_seqscan = off, whose huge cost estimates would start the JIT compiler.
  await sql`
    create index api_keys_owner_caps on tasklane.api_keys (owner, max_concurrent)
    where max_concurrent is not null and revoked_at is null
  `.execute(db);
  await sql`
    create index tasks_scheduled on tasklane.tasks (kind, run_at) where status = 'pending' and fair_rank is null
  `.execute(db);

  // Rank what is due now, each owner's tasks in order; what is not yet due waits for a claim to
  // rank it. The old runnable index has no reader left once the claim uses tasks_ready.
  await sql`
    update tasklane.tasks t set fair_rank = r.rank
    from (
      select id, row_number() over (partition by kind, priority, owner order by run_at, id) as rank
      from tasklane.tasks where status = 'pending' and run_at <= now()
    ) r
    where t.id = r.id
  `.execute(db);
  await sql`drop index tasklane.tasks_runnable`.execute(db);

  // Where an owner's next task of a kind and priority goes in the ready queue (see above).
  await sql`
    create function tasklane.fair_rank_base(p_kind text, p_owner text, p_priority integer) returns bigint
    language sql stable as $$
      select greatest(
        (select r.fair_rank + 1 from tasklane.tasks r
          where r.status = 'pending' and r.fair_rank is not null and r.kind = p_kind and r.priority = p_priority
            and r.owner = p_owner
          order by r.fair_rank desc limit 1),
        (select h.fair_rank from tasklane.tasks h
          where h.status = 'pending' and h.fair_rank is not null and h.kind = p_kind and h.priority = p_priority
          order by h.fair_rank limit 1),
        0)
    $$
  `.execute(db);

  // Ranks up to PROMOTE_BATCH due tasks of the given kinds. SKIP LOCKED: two claims promoting at
  // once take different rows.
  await sql`
    create function tasklane.promote_due(p_kinds text[]) returns void language sql as $$
      with due as (
        select t.id, t.kind, t.owner, t.priority, t.run_at from tasklane.tasks t
        where t.status = 'pending' and t.fair_rank is null and t.kind = any(p_kinds) and t.run_at <= now()
        limit ${n(PROMOTE_BATCH)}
        for update skip locked
      ), groups as (
        select g.kind, g.owner, g.priority, tasklane.fair_rank_base(g.kind, g.owner, g.priority) as base
        from (select distinct kind, owner, priority from due) g
      ), ranked as (
        select d.id, g.base + row_number() over (partition by d.kind, d.owner, d.priority order by d.run_at, d.id) - 1 as rank
        from due d join groups g using (kind, owner, priority)
      )
      update tasklane.tasks t set fair_rank = r.rank from ranked r where t.id = r.id
    $$
  `.execute(db);

  // The room this claim may fill, per kind and per owner. Owner caps: p_owner_cap for every owner
  // (null: none), overridden by the highest max_concurrent among an owner's live API keys.
  // owners_left holds the room of every owner that runs something or has an override; an owner
  // in neither has p_owner_cap. Owners are counted only when some owner cap exists: otherwise the
  // count stays an index-only scan of the processing rows by kind.
  await sql`
    create function tasklane.claim_room_fair(
      p_max integer, p_kinds text[], p_total_cap integer, p_kind_caps jsonb, p_owner_cap integer, p_fast boolean,
      out room integer, out kinds_left jsonb, out kinds_full text[], out owners_left jsonb, out owners_full text[]
    ) language plpgsql
    set jit = off
    as $$
    declare
      v_running integer;
      v_by_kind jsonb;
      v_fast boolean := false;
      v_capped jsonb;
      v_owner_caps jsonb;
      v_owners boolean;
      v_close integer := p_max * ${n(CLAIM_SLOTS)};
    begin
      select coalesce(jsonb_object_agg(c.key, c.value), '{}'::jsonb) into v_capped
        from jsonb_each_text(p_kind_caps) c where c.key = any(p_kinds);
      select coalesce(jsonb_object_agg(k.owner, k.cap), '{}'::jsonb) into v_owner_caps
        from (select a.owner, max(a.max_concurrent) as cap from tasklane.api_keys a
              where a.max_concurrent is not null and a.revoked_at is null group by a.owner) k;
      v_owners := p_owner_cap is not null or v_owner_caps <> '{}'::jsonb;
      if p_fast and v_close <= p_total_cap
         and not exists (select 1 from jsonb_each_text(v_capped) c where c.value::integer < v_close)
         and coalesce(p_owner_cap, v_close) >= v_close
         and not exists (select 1 from jsonb_each_text(v_owner_caps) c where c.value::integer < v_close) then
        for i in 0 .. ${n(CLAIM_SLOTS)} - 1 loop
          if pg_try_advisory_xact_lock(${n(CLAIM_SLOT_LOCK)}, i) then
            v_fast := true;
            exit;
          end if;
        end loop;
      end if;
      if not v_fast then
        perform pg_advisory_xact_lock(${n(CAP_LOCK)});
        perform pg_advisory_xact_lock(${n(CLAIM_SLOT_LOCK)}, s.n) from generate_series(0, ${n(CLAIM_SLOTS)} - 1) s(n);
      end if;
      select coalesce(sum(r.n), 0), coalesce(jsonb_object_agg(r.kind, r.n), '{}'::jsonb) into v_running, v_by_kind
        from (select t.kind, count(*) as n from tasklane.tasks t where t.status = 'processing' group by t.kind) r;
      select coalesce(jsonb_object_agg(c.key, c.value::integer - coalesce((v_by_kind ->> c.key)::integer, 0)), '{}'::jsonb)
        into kinds_left from jsonb_each_text(v_capped) c;
      owners_left := '{}'::jsonb;
      if v_owners then
        select coalesce(jsonb_object_agg(o.owner, coalesce((v_owner_caps ->> o.owner)::integer, p_owner_cap) - coalesce(o.n, 0)), '{}'::jsonb)
          into owners_left
          from (
            select coalesce(r.owner, c.key) as owner, r.n
            from (select t.owner, count(*)::integer as n from tasklane.tasks t where t.status = 'processing' group by t.owner) r
            full join jsonb_each_text(v_owner_caps) c on c.key = r.owner
          ) o
          where coalesce((v_owner_caps ->> o.owner)::integer, p_owner_cap) is not null;
      end if;
      if v_fast then
        if v_running + v_close > p_total_cap
           or exists (select 1 from jsonb_each_text(kinds_left) c where c.value::integer < v_close)
           or exists (select 1 from jsonb_each_text(owners_left) c where c.value::integer < v_close) then
          raise exception 'caps are close: claim again with the cap lock' using errcode = 'TL001';
        end if;
        room := p_max;
        kinds_full := '{}';
        owners_full := '{}';
        return;
      end if;
      room := least(p_max, p_total_cap - v_running);
      select coalesce(array_agg(c.key), '{}') into kinds_full from jsonb_each_text(kinds_left) c where c.value::integer <= 0;
      select coalesce(array_agg(c.key), '{}') into owners_full from jsonb_each_text(owners_left) c where c.value::integer <= 0;
    end $$
  `.execute(db);

  // The claim: per requested kind not at its cap, one ordered range of tasks_ready (LATERAL), so
  // the cost is the rows taken, whatever waits in other kinds, in a full kind, or in the future.
  // With owners at their cap (only known on the exact path, where no other claim runs) it skips
  // from owner to owner instead, passing over those owners' backlogs (its cost grows with the
  // owners waiting in the kind, not with their tasks), reads unlocked, then locks by id.
  await sql`
    create function tasklane.claim_fair(
      p_worker text, p_max integer, p_kinds text[], p_total_cap integer, p_kind_caps jsonb, p_owner_cap integer,
      p_lease_seconds integer, p_fast boolean
    ) returns table (
      id text, kind text, service text, owner text, input jsonb, error jsonb, priority integer, attempts integer,
      max_attempts integer, idempotency_key text, version bigint, run_at_ms float8, created_at_ms float8, now_ms float8
    ) language plpgsql
    -- As in 0004 (a stale plan could sort a whole backlog), and no JIT: the disabled scans' huge
    -- cost estimates would make it compile a claim that runs in well under a millisecond.
    set enable_bitmapscan = off set enable_seqscan = off set jit = off
    as $$
    #variable_conflict use_column
    declare
      v_room integer;
      v_left jsonb;
      v_full text[];
      v_owners_left jsonb;
      v_owners_full text[];
      v_ids text[];
    begin
      insert into tasklane.workers as w (id, expires_at) values (p_worker, now() + make_interval(secs => p_lease_seconds))
        on conflict (id) do update set expires_at = excluded.expires_at
        where w.expires_at < now() + make_interval(secs => p_lease_seconds / 2.0);
      select r.room, r.kinds_left, r.kinds_full, r.owners_left, r.owners_full
        into v_room, v_left, v_full, v_owners_left, v_owners_full
        from tasklane.claim_room_fair(p_max, p_kinds, p_total_cap, p_kind_caps, p_owner_cap, p_fast) r;
      if v_room <= 0 then
        return;
      end if;
      perform tasklane.promote_due(p_kinds);
      if v_owners_full = '{}' then
        select array_agg(a.id) into v_ids from (
          select c.id from (
            select c.id, c.priority, c.fair_rank,
              row_number() over (partition by c.owner order by c.priority desc, c.fair_rank, c.id) as on_owner,
              c.owner
            from (select q.kind, least(v_room, coalesce((v_left ->> q.kind)::integer, v_room)) as n
                  from unnest(p_kinds) q(kind) where q.kind <> all(v_full)) k
            cross join lateral (
              select t.id, t.owner, t.priority, t.fair_rank from tasklane.tasks t
              where t.status = 'pending' and t.fair_rank is not null and t.kind = k.kind and t.run_at <= now()
              order by t.priority desc, t.fair_rank, t.id
              limit k.n
              for update skip locked
            ) c
          ) c
          where c.on_owner <= coalesce((v_owners_left ->> c.owner)::integer, p_owner_cap, v_room)
          order by c.priority desc, c.fair_rank, c.id
          limit v_room
        ) a;
      else
        select array_agg(a.id) into v_ids from (
          select c.id from (
            select c.id, c.priority, c.fair_rank,
              row_number() over (partition by c.owner order by c.priority desc, c.fair_rank, c.id) as on_owner,
              c.owner
            from (select q.kind, least(v_room, coalesce((v_left ->> q.kind)::integer, v_room)) as n
                  from unnest(p_kinds) q(kind) where q.kind <> all(v_full)) k
            cross join lateral (
              -- Each (priority, owner) waiting in this kind, by a skip scan of tasks_ready_owner,
              -- and the first few tasks of each owner not at its cap.
              with recursive waiting as (
                (select t.priority, t.owner from tasklane.tasks t
                 where t.status = 'pending' and t.fair_rank is not null and t.kind = k.kind
                 order by t.priority, t.owner limit 1)
                union all
                select x.priority, x.owner from waiting o cross join lateral (
                  select t.priority, t.owner from tasklane.tasks t
                  where t.status = 'pending' and t.fair_rank is not null and t.kind = k.kind
                    and (t.priority, t.owner) > (o.priority, o.owner)
                  order by t.priority, t.owner limit 1
                ) x
              )
              select f.id, f.owner, f.priority, f.fair_rank from waiting o
              cross join lateral (
                select t.id, t.owner, t.priority, t.fair_rank from tasklane.tasks t
                where t.status = 'pending' and t.fair_rank is not null and t.kind = k.kind
                  and t.priority = o.priority and t.owner = o.owner and t.run_at <= now()
                order by t.fair_rank
                limit least(k.n, coalesce((v_owners_left ->> o.owner)::integer, p_owner_cap, k.n))
              ) f
              where o.owner <> all(v_owners_full)
              order by f.priority desc, f.fair_rank, f.id
              limit k.n
            ) c
          ) c
          where c.on_owner <= coalesce((v_owners_left ->> c.owner)::integer, p_owner_cap, v_room)
          order by c.priority desc, c.fair_rank, c.id
          limit v_room
        ) a;
        select array_agg(l.id) into v_ids from (
          select t.id from tasklane.tasks t where t.id = any(v_ids) and t.status = 'pending' for update skip locked
        ) l;
      end if;
      if v_ids is null then
        return;
      end if;
      return query
        update tasklane.tasks t
          set status = 'processing', attempts = t.attempts + 1, started_at = now(), lease_owner = p_worker,
              progress = 0, message = 'Task processing started', version = t.version + 1, updated_at = now(),
              fair_rank = null
          where t.id = any(v_ids)
          returning t.id, t.kind, t.service, t.owner, t.input, t.error, t.priority, t.attempts, t.max_attempts,
            t.idempotency_key, t.version, (extract(epoch from t.run_at) * 1000)::float8,
            (extract(epoch from t.created_at) * 1000)::float8, (extract(epoch from now()) * 1000)::float8;
    end $$
  `.execute(db);

  // The previous release's claim_batch (and 0001's claim, which wraps it) now claim in the fair
  // order too, with the per-key owner caps but without OWNER_MAX_CONCURRENT, which they do not know.
  await sql`
    create or replace function tasklane.claim_batch(
      p_worker text, p_max integer, p_kinds text[], p_total_cap integer, p_kind_caps jsonb, p_lease_seconds integer,
      p_fast boolean
    ) returns table (
      id text, kind text, service text, owner text, input jsonb, error jsonb, priority integer, attempts integer,
      max_attempts integer, idempotency_key text, version bigint, run_at_ms float8, created_at_ms float8, now_ms float8
    ) language sql as $$
      select * from tasklane.claim_fair(p_worker, p_max, p_kinds, p_total_cap, p_kind_caps, null, p_lease_seconds, p_fast)
    $$
  `.execute(db);
}

import { type Kysely, sql } from 'kysely';

/**
 * Pausing a kind: its pending tasks are claimed by no worker until it is resumed; running ones
 * finish. Forward-only.
 *
 * The pause lives in a table of its own rather than on `tasklane.kinds`: a kind that only
 * TASK_KINDS declares has no row there, and a row there means "a worker has registered it". A
 * pause is a row, a resume deletes it, so the table holds only what is paused now (almost always
 * nothing) and the claim's lookup of it is one probe of a tiny primary key.
 *
 * The claim. 0008's claim_fair keeps its body under a new name, claim_fair_kinds, and claim_fair
 * becomes a wrapper that drops the paused kinds from the kinds asked for: the claim logic stays
 * one text (0008's), and every caller of claim_fair (WorkerStore.claim, the HTTP worker protocol,
 * claim_batch of the previous release) honours pauses with no change and no extra round trip. A
 * later change of the claim itself replaces claim_fair_kinds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table tasklane.kind_pauses (
      kind text primary key,
      paused_at timestamptz not null default now(),
      -- The owner of the key that paused it (the default owner with auth off): who to ask.
      paused_by text
    )
  `.execute(db);

  await sql`
    alter function tasklane.claim_fair(text, integer, text[], integer, jsonb, integer, integer, boolean)
      rename to claim_fair_kinds
  `.execute(db);

  // One lookup of the kinds asked for; with none paused they pass through unchanged. With every
  // one paused the inner claim still renews the worker's row, and claims nothing.
  await sql`
    create function tasklane.claim_fair(
      p_worker text, p_max integer, p_kinds text[], p_total_cap integer, p_kind_caps jsonb, p_owner_cap integer,
      p_lease_seconds integer, p_fast boolean
    ) returns table (
      id text, kind text, service text, owner text, input jsonb, error jsonb, priority integer, attempts integer,
      max_attempts integer, idempotency_key text, version bigint, run_at_ms float8, created_at_ms float8, now_ms float8
    ) language plpgsql as $$
    declare
      v_paused text[];
    begin
      select array_agg(x.kind) into v_paused from tasklane.kind_pauses x where x.kind = any(p_kinds);
      if v_paused is not null then
        p_kinds := array(select q.kind from unnest(p_kinds) with ordinality q(kind, n) where q.kind <> all(v_paused) order by q.n);
      end if;
      return query select * from tasklane.claim_fair_kinds(
        p_worker, p_max, p_kinds, p_total_cap, p_kind_caps, p_owner_cap, p_lease_seconds, p_fast);
    end
    $$
  `.execute(db);
}

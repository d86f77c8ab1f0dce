import { type Kysely, sql } from 'kysely';
import { AdvisoryLock } from '../advisory-locks.ts';

/**
 * Per-owner rate limits shared by every API process: fixed-window counters for submissions and
 * one row per open subscription for the concurrency limit. Both tables are small and short-lived
 * (rows are pruned once their window or lease has passed), so they are unlogged: a crash of
 * Postgres forgets the counters, which only grants a fresh window.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // `window_end` (ms since the epoch) identifies the window: windows are aligned to the epoch, so
  // every process computes the same one from the database clock.
  await sql`
    create unlogged table tasklane.rate_limits (
      key text primary key,
      window_end bigint not null,
      used integer not null check (used >= 0)
    )
  `.execute(db);

  // A slot is one open subscription. Its holder (an API process) renews `expires_at` on every
  // heartbeat; the slots of a process that died stop counting once they expire.
  await sql`
    create unlogged table tasklane.rate_limit_slots (
      id text primary key,
      key text not null,
      holder text not null,
      expires_at timestamptz not null
    )
  `.execute(db);
  await sql`create index rate_limit_slots_key on tasklane.rate_limit_slots (key, expires_at)`.execute(db);
  await sql`create index rate_limit_slots_holder on tasklane.rate_limit_slots (holder)`.execute(db);

  // "Count the live slots, then add one if there is room" must be one atomic step, or two
  // processes could both see the last free slot: a transaction advisory lock per key makes takers
  // of the same key take turns (other keys are not held up). Each statement in a plpgsql function
  // takes a fresh snapshot, so the count sees every slot committed before the lock was granted.
  await sql`
    create function tasklane.take_rate_limit_slot(
      p_id text, p_key text, p_holder text, p_limit integer, p_ttl_ms integer, p_now_ms double precision
    ) returns table (granted boolean, held integer) language plpgsql as $$
    declare
      -- The number comes from advisory-locks.ts, which says what the lock guards.
      c_slot_lock constant integer := ${sql.lit(AdvisoryLock.rateLimitSlot)};
      v_now timestamptz := coalesce(to_timestamp(p_now_ms / 1000.0), clock_timestamp());
      v_held integer;
    begin
      perform pg_advisory_xact_lock(c_slot_lock, hashtext(p_key));
      delete from tasklane.rate_limit_slots s where s.key = p_key and s.expires_at <= v_now;
      select count(*) into v_held from tasklane.rate_limit_slots s where s.key = p_key;
      if v_held >= p_limit then
        return query select false, v_held;
        return;
      end if;
      insert into tasklane.rate_limit_slots (id, key, holder, expires_at)
        values (p_id, p_key, p_holder, v_now + make_interval(secs => p_ttl_ms / 1000.0));
      return query select true, v_held + 1;
    end $$
  `.execute(db);
}

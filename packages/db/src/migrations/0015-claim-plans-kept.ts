import { type Kysely, sql } from 'kysely';

/**
 * Claims keep their plans: their cost no longer grows with the table.
 *
 * Every claim runs promote_due and claim_fair_kinds's statements. Postgres planned them again on
 * every call:
 * - promote_due was a SQL-language function that writes, which Postgres 15 plans at each call;
 * - PL/pgSQL statements got custom plans, because their disabled scans' huge cost estimates
 *   (see 0008) kept the generic plan from ever looking cheaper.
 * On a table with 1,000,000 pending tasks, that planning (estimates that probe index ends for
 * `run_at <= now()`) cost more than the claim itself: p50 1.45 ms against 1.05 on an empty
 * table, on Postgres 18. The plans are index walks whatever the parameters (seqscan and bitmap
 * scans are off in the claim), so a generic plan loses nothing. With one per session: 0.94
 * against 0.95 ms.
 *
 * promote_due becomes PL/pgSQL with the same statement, taken from the stored function rather
 * than copied here, so it stays byte for byte 0008's.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ body: string }>`
    select prosrc as body from pg_proc where oid = 'tasklane.promote_due(text[])'::regprocedure
  `.execute(db);
  const statement = rows[0]!.body.trim();
  if (!/^with due as \(/.test(statement)) throw new Error('0015: promote_due is not the statement 0008 wrote');
  await sql
    .raw(
      `create or replace function tasklane.promote_due(p_kinds text[]) returns void language plpgsql
       set plan_cache_mode = force_generic_plan
       as $promote$
       begin
         ${statement};
       end
       $promote$`,
    )
    .execute(db);
  // Applies to the statements of the functions it calls too (claim_room_fair, promote_due).
  await sql`
    alter function tasklane.claim_fair_kinds(text, integer, text[], integer, jsonb, integer, integer, boolean)
      set plan_cache_mode = force_generic_plan
  `.execute(db);
}

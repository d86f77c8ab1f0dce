import { type Kysely, sql } from 'kysely';
import { rewriteFunction } from './rewrite-function.ts';

/**
 * The attempts of a task, for its page: each attempt's worker, start, end and error.
 *
 * Nothing is added to the claim or the completion, the statements that set the throughput. An
 * attempt that ends without ending the task (a retried failure, a lost lease, a release) appends
 * one entry to `attempt_history` in the UPDATE that already ends it; the current or final attempt
 * is the row itself (attempts, started_at, finished_at, status, error). The one fact the row
 * loses is the worker of its last attempt, since completing, failing and cancelling clear
 * `lease_owner`: `claimed_by` keeps it, set by the claim's UPDATE beside `lease_owner`, so the
 * claim writes the same row once, as before, with one more column.
 *
 * Two functions change by one expression each, rewritten from their stored text rather than
 * copied here: claim_fair_kinds (0008's claim, renamed by 0012) sets `claimed_by`, and the webhook
 * outbox (0011) leaves the history out of its snapshots, as it leaves out input. The rewrite
 * refuses to run unless the expression it replaces occurs exactly once, so the rest of each body
 * stays byte for byte what shipped.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table tasklane.tasks
      -- Ended attempts, oldest first: {attempt, worker, started_at, ended_at, outcome, error}.
      add column attempt_history jsonb,
      add column claimed_by text
  `.execute(db);
  await rewriteFunction(
    db,
    '0013',
    'tasklane.claim_fair_kinds(text, integer, text[], integer, jsonb, integer, integer, boolean)',
    'lease_owner = p_worker,',
    'lease_owner = p_worker, claimed_by = p_worker,',
  );
  await rewriteFunction(
    db,
    '0013',
    'tasklane.webhook_outbox()',
    "- 'input' - 'webhook' - 'request_hash';",
    "- 'input' - 'webhook' - 'request_hash' - 'attempt_history' - 'claimed_by';",
  );
}

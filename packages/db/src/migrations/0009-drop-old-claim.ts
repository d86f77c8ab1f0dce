import { type Kysely, sql } from 'kysely';

/**
 * Drops 0001's tasklane.claim, which 0004 kept as a wrapper over claim_batch "for processes still
 * running the previous release". No release ever called it (every worker calls claim_batch), so it
 * was only a second entry point to keep correct. A new migration rather than an edit of 0001 and
 * 0004, so databases that already applied those end in the same schema as new ones.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists tasklane.claim(text, integer, text[], integer, jsonb, integer)`.execute(db);
}

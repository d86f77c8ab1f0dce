import { type Kysely, sql } from 'kysely';

/**
 * Worker keys: a key that may only run the HTTP worker protocol, for the kinds listed (null: any
 * kind). Owner and admin keys keep `worker = false` and cannot act as workers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table tasklane.api_keys
      add column worker boolean not null default false,
      add column kinds text[]
  `.execute(db);
}

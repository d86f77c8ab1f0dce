import { type Kysely, sql } from 'kysely';

/**
 * API keys. Only a hash of each key's secret is kept; the public `id` (also part of the key) is
 * how a presented key is looked up, so verifying never scans the table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table tasklane.api_keys (
      id text primary key,
      owner text not null,
      admin boolean not null default false,
      name text,
      hash text not null,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    )
  `.execute(db);
}

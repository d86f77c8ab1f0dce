import { type Kysely, sql } from 'kysely';

/**
 * The kinds registry: which kinds workers serve, so that a submission of a kind nothing will ever
 * run (a typo) is refused instead of waiting forever. Forward-only.
 *
 * `tasklane.kinds` remembers every kind a worker has ever registered (a kind stays known while
 * its workers are redeployed or down); `tasklane.workers.kinds` says what each live worker serves
 * now, so its lease (`expires_at`, renewed by the heartbeat) is also the liveness of its kinds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table tasklane.workers add column kinds text[] not null default '{}'`.execute(db);
  await sql`
    create table tasklane.kinds (
      kind text primary key,
      registered_at timestamptz not null default now()
    )
  `.execute(db);
  // A kind some worker has already claimed a task of was served before workers registered: keep
  // accepting it while workers of the previous release still run. A kind of tasks that never
  // started (perhaps the typo this is about) is left to be registered.
  await sql`
    insert into tasklane.kinds (kind) select distinct kind from tasklane.tasks where started_at is not null
    on conflict do nothing
  `.execute(db);
}

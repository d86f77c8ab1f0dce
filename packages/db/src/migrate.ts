import { Kysely, Migrator, PostgresDialect, sql, type MigrationResultSet } from 'kysely';
import pg from 'pg';
import { migrations } from './migrations/index.ts';
import { AdvisoryLock } from './advisory-locks.ts';

/**
 * Brings the database to the latest schema. Migrations go forward only: there is no way down (see
 * migrations/index.ts for why), so this is the one entry point. Safe to run twice and from several processes at
 * once: a session advisory lock makes them take turns, and the later ones find nothing to do.
 */
export async function migrateToLatest(connectionString: string): Promise<string[]> {
  const pool = new pg.Pool({ connectionString, max: 1, application_name: 'tasklane-migrate' });
  pool.on('error', () => {});
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  try {
    return await db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(${AdvisoryLock.migrate})`.execute(conn);
      try {
        await sql`create schema if not exists tasklane`.execute(conn);
        const migrator = new Migrator({
          db: conn,
          provider: { getMigrations: async () => migrations },
          migrationTableSchema: 'tasklane',
          migrationTableName: 'migration',
          migrationLockTableName: 'migration_lock',
        });
        const outcome: MigrationResultSet = await migrator.migrateToLatest();
        if (outcome.error) throw outcome.error;
        return (outcome.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
      } finally {
        await sql`select pg_advisory_unlock(${AdvisoryLock.migrate})`.execute(conn);
      }
    });
  } finally {
    await db.destroy();
  }
}

/** Whether every known migration has been applied (the readiness check). */
export async function migrationsApplied(pool: pg.Pool): Promise<boolean> {
  const names = Object.keys(migrations);
  const rows = await pool
    .query<{ n: number }>('select count(*)::int as n from tasklane.migration where name = any($1::text[])', [names])
    .catch(() => ({ rows: [{ n: -1 }] }));
  return rows.rows[0]?.n === names.length;
}

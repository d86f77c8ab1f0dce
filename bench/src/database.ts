import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrateToLatest, startEmbeddedPostgres, withDatabase, type EmbeddedPostgresHandle } from '@tasklane/db';

export interface BenchDatabase {
  adminUrl: string;
  serverVersion: string;
  embedded: boolean;
  /** A new database on the server, migrated to Tasklane's latest schema. */
  create(label: string): Promise<string>;
  /** Drops every database this run created, and stops the embedded server if one was started. */
  close(): Promise<void>;
}

async function admin<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'tasklane-bench-admin' });
  client.on('error', () => {});
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * The Postgres every system in the run shares: DATABASE_URL's server when set, else an embedded,
 * throwaway one. Each scenario gets its own database, `tasklane_bench_<run>_<label>`.
 */
export async function openBenchDatabase(log: (m: string) => void): Promise<BenchDatabase> {
  let embedded: EmbeddedPostgresHandle | undefined;
  let adminUrl = process.env.DATABASE_URL?.trim();
  if (!adminUrl) {
    log('starting embedded Postgres (ephemeral)');
    embedded = await startEmbeddedPostgres({ ephemeral: true });
    adminUrl = embedded.url;
  }
  const base = adminUrl;
  const serverVersion = await admin(base, async (c) => (await c.query<{ server_version: string }>('show server_version')).rows[0]!.server_version);
  const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const created: string[] = [];
  return {
    adminUrl: base,
    serverVersion,
    embedded: embedded !== undefined,
    async create(label: string) {
      const name = `tasklane_bench_${run}_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`;
      await admin(base, (c) => c.query(`create database ${name}`));
      created.push(name);
      const url = withDatabase(base, name);
      await migrateToLatest(url);
      return url;
    },
    async close() {
      for (const name of created) {
        await admin(base, (c) => c.query(`drop database if exists ${name} with (force)`)).catch((error: Error) =>
          log(`could not drop ${name}: ${error.message}`),
        );
      }
      await embedded?.stop();
    },
  };
}

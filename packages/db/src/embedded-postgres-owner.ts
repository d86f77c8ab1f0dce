import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EmbeddedPostgresError } from './embedded-postgres-error.ts';

/** How long a start waits for the server of a run that died to finish stopping. */
const PREVIOUS_STOP_TIMEOUT_MS = 30_000;

/** Who started the server on a data folder: a second start reads it to say who holds it. */
interface Owner {
  pid: number;
  postgresPort: number;
  /** The port of the service the owner runs (the API), when it said. */
  port?: number;
}

interface Postmaster {
  pid: number;
  port: number;
  /** `starting`, `ready`, `stopping`, … (line 8 of postmaster.pid). */
  status: string;
}

function readPostmaster(clusterDir: string): Postmaster | undefined {
  try {
    const lines = readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    return Number.isInteger(pid) && pid > 0 ? { pid, port: Number(lines[3]), status: (lines[7] ?? '').trim() } : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerPath(baseDir: string): string {
  return path.join(baseDir, 'owner.json');
}

function readOwner(baseDir: string): Owner | undefined {
  try {
    const owner = JSON.parse(readFileSync(ownerPath(baseDir), 'utf8')) as Owner;
    return Number.isInteger(owner.pid) ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** A pid from a stale postmaster.pid may belong to another program by now: on Linux, ask /proc. */
function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    return !existsSync('/proc/self/comm') && alive(pid);
  }
}

export function writeOwner(baseDir: string, owner: Owner): void {
  writeFileSync(ownerPath(baseDir), JSON.stringify(owner), { mode: 0o600 });
}

export function removeOwner(baseDir: string): void {
  if (readOwner(baseDir)?.pid === process.pid) rmSync(ownerPath(baseDir), { force: true });
}

/**
 * Before starting on a data folder: refuse when a live Tasklane owns its server; when the run
 * that started it is gone (a kill -9, a crash), the server is left over and its watchdog is
 * stopping it, so help it stop and wait, bounded, instead of failing on postmaster.pid.
 */
export async function takeOverDataFolder(baseDir: string, clusterDir: string, log: (line: string) => void): Promise<void> {
  const server = readPostmaster(clusterDir);
  if (!server || !isPostgres(server.pid)) return;
  const owner = readOwner(baseDir);
  const ownerAlive = owner !== undefined && alive(owner.pid);
  if ((ownerAlive || !owner) && server.status !== 'stopping') {
    const pid = owner?.pid ?? server.pid;
    const port = owner?.port ?? owner?.postgresPort ?? server.port;
    throw new EmbeddedPostgresError(
      `Tasklane is already running on data folder ${baseDir} (pid ${pid}, port ${port}); stop it first, or set TASKLANE_DATA_DIR to another folder`,
    );
  }
  log(`waiting for the embedded Postgres of a previous run (pid ${server.pid}) to stop: it outlived the run that started it`);
  try {
    // Fast shutdown, as its watchdog would send: the server of a dead run serves no one.
    process.kill(server.pid, 'SIGINT');
  } catch {
    // Already gone.
  }
  const deadline = Date.now() + PREVIOUS_STOP_TIMEOUT_MS;
  while (alive(server.pid) && existsSync(path.join(clusterDir, 'postmaster.pid'))) {
    if (Date.now() > deadline) {
      throw new EmbeddedPostgresError(
        `the embedded Postgres of a previous run (pid ${server.pid}) did not stop within ${PREVIOUS_STOP_TIMEOUT_MS / 1000} s; stop it (kill -INT ${server.pid}) and start again`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

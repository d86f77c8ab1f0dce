import { chmodSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@tasklane/db';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { launch, readTasks, signalGroup, until, type Launched } from './launcher.ts';

describe('tasklane start, stopped with tasks running', () => {
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

  /**
   * A data folder, a port and (with DATABASE_URL) a database of its own for each test, so no test
   * sees another's server or the tasks an earlier one released. With DATABASE_URL (CI's Postgres
   * 15 run) the launcher must use it and start nothing; without it, it starts the embedded Postgres
   * under TASKLANE_DATA_DIR, as a new user's machine does.
   */
  async function setup(extra: Record<string, string> = {}) {
    const database = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
    if (database) databases.push(database);
    const dataDir = await mkdtemp(path.join(root, 'data-'));
    const port = await freePort();
    const env = { TASKLANE_DATA_DIR: dataDir, DATABASE_URL: database?.url, PORT: String(port), ...extra };
    return { dataDir, databaseUrl: database?.url, port, base: `http://127.0.0.1:${port}`, env };
  }

  async function submit(base: string, input: Record<string, unknown>, kind = 'image'): Promise<string> {
    const response = await fetch(`${base}/api/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind, input }) });
    expect(response.status).toBe(202);
    return ((await response.json()) as { task_id: string }).task_id;
  }

  async function status(base: string, id: string): Promise<string> {
    return ((await (await fetch(`${base}/api/v1/tasks/${id}`)).json()) as { status: string }).status;
  }

  async function withOutput<T>(launched: Launched[], run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      for (const one of launched) if (one.child.exitCode === null) signalGroup(one, 'SIGKILL');
      throw new Error(`${(error as Error).message}\n--- launcher output ---\n${launched.map((l) => l.output().slice(-4000)).join('\n---\n')}`);
    }
  }

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'on %s to its process group with tasks running: the worker finishes or releases them, then the API stops, then Postgres',
    async (signal) => {
      const { env, base, dataDir, databaseUrl } = await setup({ SHUTDOWN_GRACE_SECONDS: '10' });
      const launched = launch(['start'], env);
      await withOutput([launched], async () => {
        await launched.printed('"msg":"tasklane started"');
        const long = [await submit(base, { duration_seconds: 600 }), await submit(base, { duration_seconds: 600 })];
        const short = await submit(base, { duration_seconds: 3 });
        await until('all three running', async () => ((await Promise.all([...long, short].map((id) => status(base, id)))).every((s) => s === 'processing') ? true : undefined));
        signalGroup(launched, signal);
        expect(await launched.exited).toBe(0);

        const rows = await readTasks([...long, short], databaseUrl, dataDir);
        expect(rows.filter((row) => row.status === 'processing')).toEqual([]);
        // The short one finished within the grace; the long ones went back without spending an attempt.
        expect(rows.find((row) => row.id === short)).toMatchObject({ status: 'completed' });
        expect(rows.filter((row) => long.includes(row.id))).toEqual(long.sort().map((id) => ({ id, status: 'pending', attempts: 0 })));

        const messages = launched.jsonLines().map((line) => `${String(line.service)}: ${String(line.msg)}`);
        const at = (message: string) => {
          const index = messages.indexOf(message);
          expect(index, `"${message}" in the log`).toBeGreaterThanOrEqual(0);
          return index;
        };
        expect(at('worker: worker stopped')).toBeLessThan(at('api: stopping api'));
        expect(at('api: stopping api')).toBeLessThan(at('launcher: stopped'));
      });
    },
    240_000,
  );

  it('on a second SIGTERM to the launcher alone, forces a fast stop, says so, and still releases the running tasks', async () => {
    // A grace far longer than the test: only the second signal can end it in time.
    const { env, base, dataDir, databaseUrl } = await setup({ SHUTDOWN_GRACE_SECONDS: '3600' });
    const launched = launch(['start'], env);
    await withOutput([launched], async () => {
      await launched.printed('"msg":"tasklane started"');
      const ids = [await submit(base, { duration_seconds: 600 }), await submit(base, { duration_seconds: 600 }), await submit(base, { duration_seconds: 600 })];
      await until('all three running', async () => ((await Promise.all(ids.map((id) => status(base, id)))).every((s) => s === 'processing') ? true : undefined));
      launched.child.kill('SIGTERM');
      await launched.printed('"msg":"worker stopping"');
      launched.child.kill('SIGTERM');
      await launched.printed('forcing a fast stop');
      expect(await launched.exited).toBe(0);
      const rows = await readTasks(ids, databaseUrl, dataDir);
      expect(rows).toEqual(ids.sort().map((id) => ({ id, status: 'pending', attempts: 0 })));
    });
  }, 240_000);

});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPool, migrateToLatest, startEmbeddedPostgres, TaskStore } from '../src/index.ts';

describe('embedded Postgres', () => {
  let dataDir: string;
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps its tasks across a restart on another port', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'tasklane-embedded-test-'));
    const first = await startEmbeddedPostgres({ dataDir });
    await migrateToLatest(first.url);
    let pool = createPool({ connectionString: first.url });
    const { task } = await new TaskStore(pool).submit({ kind: 'video', input: { prompt: 'kept' } });
    await pool.end();
    await first.stop();

    const second = await startEmbeddedPostgres({ dataDir });
    try {
      expect(await migrateToLatest(second.url)).toEqual([]);
      pool = createPool({ connectionString: second.url });
      const again = await new TaskStore(pool).get(task.id);
      expect(again?.input).toEqual({ prompt: 'kept' });
      await pool.end();
    } finally {
      await second.stop();
    }
  });
});

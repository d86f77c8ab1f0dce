import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPool, statementHealth, TaskStore } from '@tasklane/db';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { createWorker, TaskError, type Worker } from '@tasklane/worker';
import { healthServerPort, startHealthServer } from '../src/health-server.ts';
import { taskMetrics } from '../src/task-metrics.ts';

let database: TestDatabase;
let pool: ReturnType<typeof createPool>;
let store: TaskStore;
let worker: Worker;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url, max: 4 });
  store = new TaskStore(pool);
});
afterAll(async () => {
  await worker?.stop({ graceMs: 0 });
  await pool.end();
  await database.drop();
});

async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('counts finished tasks by kind and status and times their wait and run, served on /metrics', async () => {
  worker = createWorker({
    pool,
    connectionString: database.url,
    caps: { total: 100, perKind: {} },
    pollIntervalMs: 100,
    maintenanceIntervalMs: 0,
    handlers: {
      thumb: () => ({ ok: true }),
      doomed: () => {
        throw new TaskError({ type: 'Nope', message: 'no', retryable: false });
      },
      long: (_task, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null))),
    },
  });
  const registry = taskMetrics(worker);
  await worker.start();
  const server = await startHealthServer({ worker, statements: statementHealth(pool), port: 0, host: '127.0.0.1', registry });
  try {
    await store.submitMany([{ kind: 'thumb' }, { kind: 'thumb' }, { kind: 'doomed', maxAttempts: 1 }]);
    const { task: long } = await store.submit({ kind: 'long' });
    await until(async () => (await store.get(long.id))?.status === 'processing');
    await store.cancel(long.id);
    await until(async () => worker.running === 0 && (await store.queueStats()).counts.every((c) => c.status !== 'pending' && c.status !== 'processing'));

    const text = await (await fetch(`http://127.0.0.1:${healthServerPort(server)}/metrics`)).text();
    expect(text).toContain('tasklane_tasks_finished_total{kind="thumb",status="completed"} 2');
    expect(text).toContain('tasklane_tasks_finished_total{kind="doomed",status="failed"} 1');
    await until(async () => (await registry.metrics()).includes('tasklane_tasks_finished_total{kind="long",status="cancelled"} 1'));
    expect(text).toContain('tasklane_task_queue_wait_seconds_count{kind="thumb"} 2');
    expect(text).toContain('tasklane_task_run_seconds_count{kind="doomed"} 1');
    // The statement series the health server had before are still there.
    expect(text).toContain('tasklane_database_named_statements');
    expect(text).not.toMatch(/owner=/);
  } finally {
    server.close();
  }
});

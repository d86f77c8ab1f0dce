import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiProcess, type ApiProcess } from '@tasklane/client/testing';
import { createPool, TaskStore } from '@tasklane/db';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { PythonProcess, requirePython, submitOverRest } from './python-process.ts';

/**
 * Cancels and shutdown of a Python worker. The lease is long (600 s: the worker heartbeats every
 * 25 s at most), so a cancel that reaches the handler within this test's few seconds came through
 * the heartbeat that waits on the server's event bus, not through the periodic renewal.
 */

let db: TestDatabase;
let api: ApiProcess;
let pool: ReturnType<typeof createPool>;
let store: TaskStore;
const pythons: PythonProcess[] = [];

beforeAll(async () => {
  requirePython();
  db = await createTestDatabase();
  api = await startApiProcess({ databaseUrl: db.url, env: { LEASE_SECONDS: '600', AUTH: 'off' } });
  pool = createPool({ connectionString: db.url, max: 2 });
  store = new TaskStore(pool);
}, 180_000);

afterAll(async () => {
  await Promise.all(pythons.map((p) => p.kill()));
  await api?.stop();
  await pool?.end();
  await db?.drop();
});

function python(env: Record<string, string>): PythonProcess {
  const p = new PythonProcess('worker.py', { TASKLANE_URL: api.origin, ...env });
  pythons.push(p);
  return p;
}

const submit = (kind: string, input: unknown) => submitOverRest(api.origin, kind, input);

/** Within the 25 s a heartbeat may wait: only the pushed cancel can arrive before this. */
const PUSHED_WITHIN_MS = 15_000;

describe('a Python worker', () => {
  it("hears a cancel in the handler's ctx.cancelled at once, and stores nothing for the task", async () => {
    const worker = python({ KINDS: 'py_cancel' });
    const id = await submit('py_cancel', { mode: 'wait_cancel', timeout: 60 });
    await worker.event((e) => e.event === 'started' && e.task_id === id, 'the handler to start');
    const cancelledAt = Date.now();
    expect((await fetch(`${api.origin}/api/v1/tasks/${id}`, { method: 'DELETE' })).status).toBe(200);
    const seen = await Promise.race([
      worker.event((e) => e.event === 'cancel_seen' && e.task_id === id, 'the cancel in the handler'),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the cancel did not reach the handler by push')), PUSHED_WITHIN_MS)),
    ]);
    expect(seen).toMatchObject({ seen: true, reason: 'cancelled' });
    console.log(`cancel reached ctx.cancelled ${Math.round(seen.at * 1000 - cancelledAt)} ms after DELETE`);
    expect(await store.get(id)).toMatchObject({ status: 'cancelled', result: null });
  });

  it('SIGTERM: stops claiming, finishes what ends within the grace period, releases the rest without spending an attempt', async () => {
    const worker = python({ KINDS: 'py_stop', CONCURRENCY: '2', GRACE: '2' });
    const quick = await submit('py_stop', { mode: 'sleep', seconds: 0.5 });
    const stuck = await submit('py_stop', { mode: 'sleep', seconds: 3600 });
    await worker.event((e) => e.event === 'started' && e.task_id === quick);
    await worker.event((e) => e.event === 'started' && e.task_id === stuck);
    const later = await submit('py_stop', { mode: 'sleep', seconds: 0 });
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(worker.events.some((e) => e.event === 'stopped')).toBe(true);
    expect(await store.get(quick)).toMatchObject({ status: 'completed' });
    // The handler that ignored ctx.cancelled was abandoned; its task is back, its attempt unspent.
    expect(await store.get(stuck)).toMatchObject({ status: 'pending', attempts: 0, leaseOwner: null });
    // Submitted as the stop came: never claimed, or claimed into the slot the quick task freed and finished.
    const last = (await store.get(later))!;
    expect(['pending:0', 'completed:1']).toContain(`${last.status}:${last.attempts}`);
  });
});

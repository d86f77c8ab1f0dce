import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTasklaneClient, type TasklaneClient } from '@tasklane/client';
import { startApiProcess, type ApiProcess } from '@tasklane/client/testing';
import { createPool, TaskStore } from '@tasklane/db';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { createWorker, type Worker as TsWorker } from '@tasklane/worker';
import { PythonProcess, requirePython, submitOverRest } from './python-process.ts';

/**
 * Python workers (clients/python) against a real API process: over GraphQL and graphql-ws, after
 * a SIGKILL, racing a TypeScript worker for capped kinds, and a late write after a lost lease.
 * The lease is short so that a dead worker's tasks come back within the test.
 */

const LEASE_SECONDS = 3;
const CAP = 3;

let db: TestDatabase;
let api: ApiProcess;
let pool: ReturnType<typeof createPool>;
let store: TaskStore;
let client: TasklaneClient;
const pythons: PythonProcess[] = [];
const tsWorkers: TsWorker[] = [];

beforeAll(async () => {
  requirePython();
  db = await createTestDatabase();
  api = await startApiProcess({
    databaseUrl: db.url,
    env: { LEASE_SECONDS: String(LEASE_SECONDS), PY_CAPPED_MAX_CONCURRENT: String(CAP), MAX_CONCURRENT_TASKS: '100', AUTH: 'off' },
  });
  pool = createPool({ connectionString: db.url, max: 2 });
  store = new TaskStore(pool);
  client = createTasklaneClient({ url: api.url, webSocketImpl: WebSocket });
}, 180_000);

afterAll(async () => {
  await Promise.all(pythons.map((p) => p.kill()));
  await Promise.all(tsWorkers.map((w) => w.stop({ graceMs: 0 })));
  await client?.close();
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

async function until<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('a Python worker', () => {
  it('completes a task submitted over GraphQL while a graphql-ws subscriber sees its progress', async () => {
    const worker = python({ KINDS: 'py_gql' });
    const task = await client.submit({ kind: 'py_gql', input: { mode: 'progress', steps: [10, 40, 70], pause: 0.3 } });
    const seen: { status: string; progress: number; message: string | null }[] = [];
    let last;
    for await (const state of client.watch(task.id)) {
      seen.push({ status: state.status, progress: state.progress, message: state.message ?? null });
      last = state;
    }
    expect(last?.status).toBe('COMPLETED');
    const started = await worker.event((e) => e.event === 'started' && e.task_id === task.id);
    expect(last?.result).toEqual({ by: 'python', pid: started.pid, attempt: 1 });
    const midway = seen.filter((s) => s.status === 'PROCESSING' && s.progress > 0);
    expect(midway.length).toBeGreaterThan(0);
    for (const s of midway) expect(s.message).toBe(`step ${s.progress}`);
    expect(midway.every((s) => [10, 40, 70].includes(s.progress))).toBe(true);
    const progresses = seen.map((s) => s.progress);
    expect(progresses).toEqual([...progresses].sort((a, b) => a - b));
  });

  it("SIGKILLed mid-task: another worker retries the task once the dead worker's lease expires", async () => {
    const victim = python({ KINDS: 'py_kill' });
    const id = await submit('py_kill', { mode: 'sleep_by_attempt', first: 3600, later: 0 });
    const first = await victim.event((e) => e.event === 'started' && e.task_id === id, 'the first attempt');
    expect(first.attempt).toBe(1);
    await victim.kill('SIGKILL');
    expect((await store.get(id))!.status).toBe('processing');

    const heir = python({ KINDS: 'py_kill' });
    const second = await heir.event((e) => e.event === 'started' && e.task_id === id, 'the retry');
    expect(second.attempt).toBe(2);
    const done = await until(async () => {
      const task = await store.get(id);
      return task?.status === 'completed' && task;
    }, 'the retry to complete');
    expect(done.result).toEqual({ by: 'python', pid: second.pid, attempt: 2 });
    expect(second.pid).not.toBe(first.pid);
  });

  it('holds the cluster-wide cap at every sample while racing a TypeScript worker for the same kind', async () => {
    const kind = 'py_capped';
    const ids = await Promise.all(Array.from({ length: 24 }, () => submit(kind, { mode: 'sleep', seconds: 0.2 })));
    python({ KINDS: kind, CONCURRENCY: '4' });
    const ts = createWorker({
      connectionString: db.url,
      handlers: { [kind]: async () => (await new Promise((resolve) => setTimeout(resolve, 200)), { by: 'ts' }) },
      concurrency: 4,
      leaseSeconds: LEASE_SECONDS,
      caps: { total: 100, perKind: { [kind]: CAP } },
      pollIntervalMs: 100,
      maintenanceIntervalMs: 0,
    });
    tsWorkers.push(ts);
    await ts.start();

    let most = 0;
    let samples = 0;
    for (;;) {
      const { tasks } = await store.list({ kind: [kind], limit: 100 });
      const running = tasks.filter((t) => t.status === 'processing').length;
      samples++;
      most = Math.max(most, running);
      expect(running, `sample ${samples}`).toBeLessThanOrEqual(CAP);
      if (tasks.length === ids.length && tasks.every((t) => t.status === 'completed')) {
        const by = new Set(tasks.map((t) => (t.result as { by: string }).by));
        expect([...by].sort()).toEqual(['python', 'ts']);
        break;
      }
    }
    // The cap was reached, so it was what held the workers back (8 slots between them).
    expect(most).toBe(CAP);
  });

  it('a late write after a lost lease is refused with 409 and changes nothing', async () => {
    const id = await submit('py_late', { mode: 'sleep_by_attempt', first: 0, later: 4 });
    // The late worker speaks the protocol by hand: it claims, then stops heartbeating.
    const post = (path: string, body: unknown) =>
      fetch(`${api.origin}/api/v1/workers/late${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const claimed = (await (await post('/claim', { kinds: ['py_late'] })).json()) as { tasks: { task_id: string; attempt: number }[] };
    expect(claimed.tasks).toEqual([expect.objectContaining({ task_id: id, attempt: 1 })]);

    const heir = python({ KINDS: 'py_late' });
    await heir.event((e) => e.event === 'started' && e.task_id === id && e.attempt === 2, 'the retry after the lease expired');
    const before = (await store.get(id))!;
    expect(before).toMatchObject({ status: 'processing', attempts: 2 });

    for (const [path, body] of [
      ['/complete', { attempt: 1, result: { late: true } }],
      ['/progress', { attempt: 1, progress: 99 }],
      ['/fail', { attempt: 1, error: { type: 'Late', message: 'too late' } }],
    ] as const) {
      const answer = await post(`/tasks/${id}${path}`, body);
      expect(answer.status, path).toBe(409);
      expect(await answer.json()).toMatchObject({ code: 'LEASE_LOST', task_id: id, task_status: 'processing' });
    }
    expect(await store.get(id)).toEqual(before);
    const done = await until(async () => {
      const task = await store.get(id);
      return task?.status === 'completed' && task;
    }, 'the heir to complete');
    expect(done.result).toMatchObject({ by: 'python', attempt: 2 });
  });
});

import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { MAX_RECORDED_ATTEMPTS } from '@tasklane/core';
import { attemptHistories, createPool, runMaintenance, TaskStore, WorkerStore } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let database: TestDatabase;
let pool: ReturnType<typeof createPool>;
let store: TaskStore;
const CAPS = { total: 1000, perKind: {} };

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url });
  store = new TaskStore(pool);
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});
beforeEach(async () => {
  await pool.query('delete from tasklane.tasks');
});

/** A worker whose retries are due at once, so a test can claim again without waiting. */
const worker = (workerId: string, leaseSeconds = 30) => new WorkerStore(pool, { workerId, leaseSeconds, retryBaseSeconds: 0 });

async function historyOf(id: string) {
  return (await attemptHistories(pool, [id])).get(id)!;
}

async function claimOne(w: WorkerStore, kind: string) {
  const [task] = await w.claim(1, [kind], CAPS);
  if (!task) throw new Error(`${w.workerId} claimed no ${kind} task`);
  return { id: task.id, attempt: task.attempts };
}

it('shows a task that failed once and then completed as two attempts, each with its worker', async () => {
  const { task } = await store.submit({ kind: 'twice' });
  const first = worker('w-first');
  const second = worker('w-second');
  const error = { type: 'Upstream', message: 'The upstream service answered 503', retryable: true };
  expect(await first.fail({ ...(await claimOne(first, 'twice')), error })).toBe('pending');
  expect(await historyOf(task.id)).toMatchObject([{ attempt: 1, worker: 'w-first', outcome: 'failed', error }]);

  const held = await claimOne(second, 'twice');
  const running = await historyOf(task.id);
  expect(running).toHaveLength(2);
  expect(running[1]).toMatchObject({ attempt: 2, worker: 'w-second', outcome: 'running', endedAt: null, error: null });

  await second.complete([{ ...held, result: { ok: true } }]);
  const done = await store.get(task.id);
  const history = await historyOf(task.id);
  expect(history).toEqual([
    { attempt: 1, worker: 'w-first', startedAt: expect.any(Date), endedAt: expect.any(Date), outcome: 'failed', error },
    { attempt: 2, worker: 'w-second', startedAt: done!.startedAt, endedAt: done!.finishedAt, outcome: 'completed', error: null },
  ]);
  expect(history[0]!.endedAt!.getTime()).toBeLessThanOrEqual(history[1]!.startedAt.getTime());
  // The completion cleared the lease; the worker came from the claim's own column.
  expect(done?.leaseOwner).toBeNull();
});

it('records an attempt whose worker stopped heartbeating as lost, and the next one after it', async () => {
  const { task } = await store.submit({ kind: 'lost' });
  // A one-second lease that nothing renews: this store never heartbeats.
  const silent = worker('w-silent', 1);
  await claimOne(silent, 'lost');
  await expect
    .poll(async () => (await runMaintenance(pool, { retentionHours: 24, retryBaseSeconds: 0 })).requeued, { timeout: 30_000, interval: 200 })
    .toBe(1);
  const [lost] = await historyOf(task.id);
  expect(lost).toMatchObject({ attempt: 1, worker: 'w-silent', outcome: 'lost', error: { type: 'WorkerLost', retryable: true } });
  expect(await historyOf(task.id)).toHaveLength(1);

  const next = worker('w-next');
  const held = await claimOne(next, 'lost');
  await next.fail({ ...held, error: { type: 'Broken', message: 'for good', retryable: false } });
  expect((await historyOf(task.id)).map((a) => [a.attempt, a.worker, a.outcome, a.error?.type])).toEqual([
    [1, 'w-silent', 'lost', 'WorkerLost'],
    [2, 'w-next', 'failed', 'Broken'],
  ]);
});

it('records a release at shutdown, whose attempt number the next claim takes again', async () => {
  const { task } = await store.submit({ kind: 'released' });
  const stopping = worker('w-stopping');
  const held = await claimOne(stopping, 'released');
  expect(await stopping.release([held])).toBe(1);
  expect(await historyOf(task.id)).toMatchObject([{ attempt: 1, worker: 'w-stopping', outcome: 'released', error: null }]);

  const next = worker('w-after');
  await claimOne(next, 'released');
  await store.cancel(task.id);
  expect((await historyOf(task.id)).map((a) => [a.attempt, a.worker, a.outcome])).toEqual([
    [1, 'w-stopping', 'released'],
    [1, 'w-after', 'cancelled'],
  ]);
});

it('shows no attempt for a task never claimed, and none twice for one cancelled while waiting to retry', async () => {
  const { task: fresh } = await store.submit({ kind: 'waiting' });
  expect(await historyOf(fresh.id)).toEqual([]);

  const { task } = await store.submit({ kind: 'retrying' });
  const w = worker('w-retry');
  await w.fail({ ...(await claimOne(w, 'retrying')), error: { type: 'Flaky', message: 'again', retryable: true } });
  await store.cancel(task.id);
  expect((await historyOf(task.id)).map((a) => a.outcome)).toEqual(['failed']);
});

it('keeps the history to its owner', async () => {
  const { task } = await store.submit({ kind: 'owned' }, { owner: 'alice' });
  const w = worker('w-owned');
  await w.fail({ ...(await claimOne(w, 'owned')), error: { type: 'Flaky', message: 'again', retryable: true } });
  expect((await attemptHistories(pool, [task.id], { owner: 'bob' })).get(task.id)).toEqual([]);
  expect((await attemptHistories(pool, [task.id], { owner: 'alice' })).get(task.id)).toHaveLength(1);
});

it("leaves the attempts out of a webhook delivery's snapshot, as it leaves out the input", async () => {
  const { task } = await store.submit({ kind: 'hooked', maxAttempts: 2, webhook: { url: 'https://example.com/hook', events: ['failed'] } });
  const w = worker('w-hooked');
  const error = { type: 'Flaky', message: 'again', retryable: true };
  await w.fail({ ...(await claimOne(w, 'hooked')), error });
  expect(await w.fail({ ...(await claimOne(w, 'hooked')), error })).toBe('failed');
  const { rows } = await pool.query<{ keys: string[] }>(
    'select array(select jsonb_object_keys(snapshot)) as keys from tasklane.webhook_deliveries where task_id = $1',
    [task.id],
  );
  expect(rows).toHaveLength(1);
  expect(rows[0]!.keys).toContain('attempts');
  expect(rows[0]!.keys).not.toContain('attempt_history');
  expect(rows[0]!.keys).not.toContain('claimed_by');
  expect(await historyOf(task.id)).toHaveLength(2);
});

it('keeps at most MAX_RECORDED_ATTEMPTS ended attempts, dropping the oldest', async () => {
  const { task } = await store.submit({ kind: 'often' });
  // As if it had been released that many times already (releases spend no attempt).
  await pool.query(
    `update tasklane.tasks set attempt_history = (select jsonb_agg(jsonb_build_object('attempt', 1, 'worker', 'w-' || n,
       'started_at', now(), 'ended_at', now(), 'outcome', 'released', 'error', null) order by n) from generate_series(1, $2) n)
     where id = $1`,
    [task.id, MAX_RECORDED_ATTEMPTS],
  );
  const w = worker('w-newest');
  await w.release([await claimOne(w, 'often')]);
  const history = await historyOf(task.id);
  expect(history).toHaveLength(MAX_RECORDED_ATTEMPTS);
  expect(history[0]!.worker).toBe('w-2');
  expect(history.at(-1)).toMatchObject({ worker: 'w-newest', outcome: 'released' });
});

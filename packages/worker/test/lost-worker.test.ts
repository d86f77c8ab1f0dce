import { expect, it } from 'vitest';
import { runMaintenance, WorkerStore } from '@tasklane/db';
import { uncapped, untilAborted, useTestEnv, waitFor } from './helpers.ts';

const env = useTestEnv();

/** A worker that claims and then goes silent: no heartbeat, as if its process froze or died. */
function staleWorker(id: string) {
  return new WorkerStore(env.pool, { workerId: id, leaseSeconds: 2, retryBaseSeconds: 0.05 });
}

async function leaseExpired(workerId: string): Promise<boolean> {
  const { rows } = await env.pool.query('select 1 from tasklane.workers where id = $1 and expires_at > now()', [workerId]);
  return rows.length === 0;
}

it('returns a lost worker\'s task to pending, retries it elsewhere, and fences the stale worker out', async () => {
  const { task } = await env.store.submit({ kind: 'lost', maxAttempts: 2 });
  const stale = staleWorker('stale-1');
  const [claimed] = await stale.claim(1, ['lost'], uncapped);
  expect(claimed).toMatchObject({ id: task.id, attempts: 1 });

  // A live worker whose maintenance sweeps the expired lease and which then runs the retry.
  const runs: number[] = [];
  const live = await env.worker({
    maintenanceIntervalMs: 250,
    handlers: { lost: (_task, ctx) => void runs.push(ctx.attempt) },
  });
  await waitFor(async () => (await env.store.get(task.id))?.status === 'completed', { what: 'the retry to complete', timeoutMs: 20_000 });
  expect(runs).toEqual([2]);
  const done = await env.store.get(task.id);
  expect(done).toMatchObject({ attempts: 2, status: 'completed' });

  // The stale worker wakes up and tries to finish its attempt: refused, nothing changes.
  expect((await stale.complete([{ id: task.id, attempt: 1, result: { stale: true } }])).size).toBe(0);
  expect(await stale.fail({ id: task.id, attempt: 1, error: { type: 'X', message: 'x', retryable: false } })).toBeUndefined();
  expect(await stale.progress({ id: task.id, attempt: 1 }, 10, 'stale')).toBe(false);
  expect(await env.store.get(task.id)).toEqual(done);
  // Its maintenance loop must not race the next tests' own sweeps.
  await live.stop();
});

it('fails the task with WorkerLost once its attempts are spent', async () => {
  const { task } = await env.store.submit({ kind: 'doomed', maxAttempts: 1 });
  const stale = staleWorker('stale-2');
  await stale.claim(1, ['doomed'], uncapped);
  await waitFor(() => leaseExpired('stale-2'), { what: 'the lease to expire', timeoutMs: 10_000, intervalMs: 100 });
  const swept = await runMaintenance(env.pool, { retentionHours: 24, retryBaseSeconds: 0.05 });
  expect(swept).toMatchObject({ elected: true, failed: 1 });
  const failed = await env.store.get(task.id);
  expect(failed).toMatchObject({ status: 'failed', attempts: 1, leaseOwner: null });
  expect(failed?.error).toMatchObject({ type: 'WorkerLost', retryable: false });
  expect(failed?.finishedAt).toBeInstanceOf(Date);
});

it('aborts a live worker\'s handler with reason lease_lost when its lease is swept', async () => {
  const reasons: unknown[] = [];
  const worker = await env.worker({
    handlers: {
      frozen: async (_task, ctx) => {
        if (ctx.attempt > 1) return { attempt: ctx.attempt };
        reasons.push(await untilAborted(ctx.signal));
        return { attempt: ctx.attempt, late: true };
      },
    },
  });
  const { task } = await env.store.submit({ kind: 'frozen' });
  await waitFor(async () => (await env.store.get(task.id))?.status === 'processing', { what: 'the task to start' });
  // The worker's lease runs out (as if its heartbeats had stalled) and the sweep takes the task.
  await env.pool.query(`update tasklane.workers set expires_at = now() - interval '1 second' where id = $1`, [worker.id]);
  expect(await runMaintenance(env.pool, { retentionHours: 24, retryBaseSeconds: 0.05 })).toMatchObject({ requeued: 1 });

  await waitFor(() => reasons.length === 1, { what: 'the handler to be aborted', timeoutMs: 20_000 });
  expect(reasons[0]).toMatchObject({ reason: 'lease_lost', taskId: task.id });
  await waitFor(async () => (await env.store.get(task.id))?.status === 'completed', { what: 'the retry to complete' });
  expect(await env.store.get(task.id)).toMatchObject({ attempts: 2, result: { attempt: 2 } });
});

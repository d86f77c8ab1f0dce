import { expect, it } from 'vitest';
import { TaskAbortedError, type TaskEvent } from '../src/index.ts';
import { deferred, untilAborted, useTestEnv, waitFor } from './helpers.ts';

const env = useTestEnv();

it('fires the handler\'s signal when its processing task is cancelled, and keeps the task cancelled', async () => {
  const reasons: unknown[] = [];
  const started = deferred<string>();
  const events: TaskEvent[] = [];
  const worker = await env.worker({
    handlers: {
      slow: async (task, ctx) => {
        started.resolve(task.id);
        reasons.push(await untilAborted(ctx.signal));
        // A handler that ignores the cancel and returns a result anyway.
        return { late: true };
      },
    },
  });
  worker.onTaskEvent((event) => events.push(event));
  const { task } = await env.store.submit({ kind: 'slow' });
  expect(await started.promise).toBe(task.id);

  await env.store.cancel(task.id);
  await waitFor(() => reasons.length === 1, { what: 'the signal to fire', timeoutMs: 10_000 });
  expect(reasons[0]).toBeInstanceOf(TaskAbortedError);
  expect(reasons[0]).toMatchObject({ reason: 'cancelled', taskId: task.id });

  await waitFor(() => events.some((e) => e.type === 'dropped' && e.taskId === task.id), { what: 'the result to be dropped' });
  const stored = await env.store.get(task.id);
  expect(stored).toMatchObject({ status: 'cancelled', result: null });
  expect(worker.running).toBe(0);
  expect(events.find((e) => e.type === 'aborted')).toMatchObject({ reason: 'cancelled' });
});

it('cancels through the heartbeat when no notification arrives', async () => {
  const reasons: unknown[] = [];
  const started = deferred<string>();
  // No event bus: only the heartbeat (every leaseSeconds/3 = 1 s) can notice the cancel.
  await env.worker({
    bus: false,
    leaseSeconds: 3,
    handlers: {
      deaf: async (task, ctx) => {
        started.resolve(task.id);
        reasons.push(await untilAborted(ctx.signal));
        throw new Error('stopped');
      },
    },
  });
  const { task } = await env.store.submit({ kind: 'deaf' });
  await started.promise;
  await env.store.cancel(task.id);
  await waitFor(() => reasons.length === 1, { what: 'the heartbeat to notice', timeoutMs: 15_000 });
  expect(reasons[0]).toMatchObject({ reason: 'cancelled' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect((await env.store.get(task.id))?.status).toBe('cancelled');
});

it('cancels a pending task before any worker runs it', async () => {
  let ran = 0;
  const { task } = await env.store.submit({ kind: 'never', runAt: new Date(Date.now() + 60_000) });
  await env.worker({ handlers: { never: () => void ran++ } });
  await env.store.cancel(task.id);
  await env.pool.query('update tasklane.tasks set run_at = now() where id = $1', [task.id]);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(ran).toBe(0);
  expect((await env.store.get(task.id))?.status).toBe('cancelled');
});

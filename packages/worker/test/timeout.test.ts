import { afterEach, expect, it } from 'vitest';
import { TaskAbortedError, type TaskEvent } from '../src/index.ts';
import { untilAborted, useTestEnv, waitFor } from './helpers.ts';

const env = useTestEnv();

const finished = (id: string) => async () => {
  const task = await env.store.get(id);
  return task && (task.status === 'failed' || task.status === 'completed') ? task : undefined;
};

it("aborts the handler's signal with reason timeout past the handler's limit, and retries the task", async () => {
  const reasons: unknown[] = [];
  const events: TaskEvent[] = [];
  const worker = await env.worker({
    handlers: {
      hangs: {
        timeoutSeconds: 0.3,
        run: async (_task, ctx) => {
          reasons.push(await untilAborted(ctx.signal));
          return { late: true };
        },
      },
    },
  });
  worker.onTaskEvent((event) => events.push(event));
  const { task } = await env.store.submit({ kind: 'hangs', maxAttempts: 2 });

  const stored = await waitFor(finished(task.id), { what: 'the task to fail' });
  // Both attempts ran out of time: the first one was retried, the last one failed the task.
  expect(stored).toMatchObject({ status: 'failed', attempts: 2, result: null, error: { type: 'Timeout', retryable: true } });
  expect(stored.error?.message).toContain('0.3 s');
  expect(reasons).toHaveLength(2);
  for (const reason of reasons) {
    expect(reason).toBeInstanceOf(TaskAbortedError);
    expect(reason).toMatchObject({ reason: 'timeout', taskId: task.id });
  }
  expect(events.filter((e) => e.type === 'failed').map((e) => e.type === 'failed' && e.willRetry)).toEqual([true, false]);
  expect(events.filter((e) => e.type === 'aborted').map((e) => e.type === 'aborted' && e.reason)).toEqual(['timeout', 'timeout']);
});

it('fails the attempt at its limit even when the handler ignores the signal and never returns', async () => {
  await env.worker({ handlers: { ignores: { timeoutSeconds: 0.2, run: () => new Promise(() => {}) } } });
  const { task } = await env.store.submit({ kind: 'ignores', maxAttempts: 1 });
  const stored = await waitFor(finished(task.id), { what: 'the task to fail' });
  expect(stored).toMatchObject({ status: 'failed', error: { type: 'Timeout', retryable: true } });
});

it("lets the worker's timeouts option override the handler's limit", async () => {
  await env.worker({
    handlers: { overridden: { timeoutSeconds: 600, run: (_task, ctx) => untilAborted(ctx.signal).then(() => 'late') } },
    timeouts: { overridden: 0.2 },
  });
  const { task } = await env.store.submit({ kind: 'overridden', maxAttempts: 1 });
  expect(await waitFor(finished(task.id), { what: 'the task to fail' })).toMatchObject({ status: 'failed', error: { type: 'Timeout' } });
});

const ENV_NAME = 'ENVLIMITED_TIMEOUT_SECONDS';
afterEach(() => {
  delete process.env[ENV_NAME];
});

it('reads <KIND>_TIMEOUT_SECONDS when the worker is given no timeouts', async () => {
  process.env[ENV_NAME] = '0.2';
  await env.worker({ handlers: { envlimited: (_task, ctx) => untilAborted(ctx.signal).then(() => 'late') } });
  const { task } = await env.store.submit({ kind: 'envlimited', maxAttempts: 1 });
  expect(await waitFor(finished(task.id), { what: 'the task to fail' })).toMatchObject({ status: 'failed', error: { type: 'Timeout' } });
});

it('completes a task whose handler finishes within its limit, with no abort', async () => {
  let signal: AbortSignal | undefined;
  await env.worker({
    handlers: {
      quick: {
        timeoutSeconds: 120,
        run: (_task, ctx) => {
          signal = ctx.signal;
          return { done: true };
        },
      },
    },
  });
  const { task } = await env.store.submit({ kind: 'quick' });
  expect(await waitFor(finished(task.id), { what: 'the task to complete' })).toMatchObject({ status: 'completed', result: { done: true }, error: null });
  expect(signal?.aborted).toBe(false);
});

it('refuses a time limit that is not a positive number of seconds', async () => {
  await expect(() => env.worker({ handlers: { bad: { timeoutSeconds: 0, run: () => null } } })).rejects.toThrow(/time limit of kind "bad" must be a number of seconds above 0/);
});

import { expect, it } from 'vitest';
import { TaskError } from '../src/index.ts';
import { runHandler } from '../src/testing/index.ts';

it('runs a handler with its input and records its progress, result and service', async () => {
  const run = runHandler(
    {
      service: 'resizer',
      run: (task, ctx) => {
        ctx.progress(40, 'resizing');
        ctx.setService('fast-resizer');
        return { width: (task.input as { width: number }).width / 2, attempt: ctx.attempt };
      },
    },
    { kind: 'thumbnail', input: { width: 640 }, attempt: 2 },
  );
  expect(run.task).toMatchObject({ kind: 'thumbnail', input: { width: 640 }, attempts: 2 });
  expect(await run.outcome).toEqual({ status: 'completed', result: { width: 320, attempt: 2 }, service: 'fast-resizer' });
  expect(run.progress).toEqual([{ percent: 40, message: 'resizing' }]);
});

it('reports a TaskError as the worker would store it, retrying only retryable errors with attempts left', async () => {
  const fatal = runHandler(() => {
    throw new TaskError({ type: 'BadImage', message: 'not an image' });
  });
  expect(await fatal.outcome).toEqual({ status: 'failed', error: { type: 'BadImage', message: 'not an image', retryable: false }, willRetry: false });
  const flaky = runHandler(() => Promise.reject(new Error('connection reset')), { attempt: 3, maxAttempts: 3 });
  expect(await flaky.outcome).toMatchObject({ status: 'failed', error: { type: 'Error', retryable: true }, willRetry: false });
});

it('aborts the signal with reason timeout past the limit and fails retryably with Timeout', async () => {
  const run = runHandler({ timeoutSeconds: 0.05, run: (_task, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(String(ctx.signal.reason)))) });
  expect(await run.outcome).toMatchObject({ status: 'failed', error: { type: 'Timeout', retryable: true }, willRetry: true });
});

it('drops the outcome of a cancelled handler, as the worker does', async () => {
  const run = runHandler((_task, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('late'))));
  run.abort();
  expect(await run.outcome).toEqual({ status: 'dropped', reason: 'cancelled' });
});

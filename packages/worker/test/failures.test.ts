import { expect, it } from 'vitest';
import { TaskError, type TaskEvent } from '../src/index.ts';
import { useTestEnv, waitFor } from './helpers.ts';

const env = useTestEnv();

async function settled(id: string) {
  return waitFor(async () => {
    const task = await env.store.get(id);
    return task && (task.status === 'completed' || task.status === 'failed') ? task : undefined;
  }, { what: `task ${id} to settle` });
}

class FlakyUpstream extends Error {
  override name = 'FlakyUpstream';
}

const events: TaskEvent[] = [];
const calls = new Map<string, number>();
function count(id: string) {
  calls.set(id, (calls.get(id) ?? 0) + 1);
}

it('stores the result, the handler\'s service and the service it chose at run time', async () => {
  const worker = await env.worker({
    handlers: {
      fixed: { service: 'veo3', run: (task) => ({ echo: task.input }) },
      chosen: { service: 'veo3', run: (_task, ctx) => { ctx.setService('fallback-provider'); return { ok: true }; } },
      nothing: () => undefined,
    },
  });
  worker.onTaskEvent((e) => events.push(e));
  const [a, b, c] = await env.store.submitMany([{ kind: 'fixed', input: { n: 1 } }, { kind: 'chosen' }, { kind: 'nothing' }]);
  expect(await settled(a!.task.id)).toMatchObject({ status: 'completed', service: 'veo3', result: { echo: { n: 1 } }, progress: 100 });
  expect(await settled(b!.task.id)).toMatchObject({ status: 'completed', service: 'fallback-provider' });
  expect(await settled(c!.task.id)).toMatchObject({ status: 'completed', service: null, result: null });
});

it('fails at once on a non-retryable TaskError, keeping the last progress', async () => {
  await env.worker({
    handlers: {
      policy: (task, ctx) => {
        count(task.id);
        ctx.progress(35, 'Rendering frames 35%');
        throw new TaskError({ type: 'VideoGenerationError', message: 'Content policy violation', retryable: false });
      },
    },
  });
  const { task } = await env.store.submit({ kind: 'policy', maxAttempts: 3 });
  const failed = await settled(task.id);
  expect(failed).toMatchObject({
    status: 'failed',
    attempts: 1,
    progress: 35,
    error: { type: 'VideoGenerationError', message: 'Content policy violation', retryable: false },
  });
  expect(failed.finishedAt).toBeInstanceOf(Date);
  expect(calls.get(task.id)).toBe(1);
});

it('retries retryable errors with backoff until max_attempts, then fails', async () => {
  await env.worker({
    handlers: {
      flaky: (task) => {
        count(task.id);
        throw new FlakyUpstream('upstream timed out');
      },
      typed: (task) => {
        count(task.id);
        throw new TaskError({ type: 'ServiceUnavailable', message: 'try later', retryable: true });
      },
    },
  });
  const [flaky, typed] = await env.store.submitMany([{ kind: 'flaky', maxAttempts: 3 }, { kind: 'typed', maxAttempts: 2 }]);
  expect(await settled(flaky!.task.id)).toMatchObject({
    status: 'failed',
    attempts: 3,
    error: { type: 'FlakyUpstream', message: 'upstream timed out', retryable: true },
  });
  expect(calls.get(flaky!.task.id)).toBe(3);
  expect(await settled(typed!.task.id)).toMatchObject({ status: 'failed', attempts: 2, error: { type: 'ServiceUnavailable' } });
  expect(calls.get(typed!.task.id)).toBe(2);
});

it('succeeds on a retry after a transient failure', async () => {
  await env.worker({
    handlers: {
      second: (task, ctx) => {
        count(task.id);
        if (ctx.attempt === 1) throw new Error('first try fails');
        return { attempt: ctx.attempt };
      },
    },
  });
  const { task } = await env.store.submit({ kind: 'second', maxAttempts: 3 });
  expect(await settled(task.id)).toMatchObject({ status: 'completed', attempts: 2, result: { attempt: 2 }, error: null });
});

it('fails without retrying when the result cannot be stored as JSON', async () => {
  await env.worker({ handlers: { bigint: () => ({ n: 1n }) as never } });
  const { task } = await env.store.submit({ kind: 'bigint', maxAttempts: 3 });
  expect(await settled(task.id)).toMatchObject({ status: 'failed', attempts: 1, error: { type: 'InvalidResult', retryable: false } });
});

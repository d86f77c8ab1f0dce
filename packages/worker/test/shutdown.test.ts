import { expect, it } from 'vitest';
import { createWorker, type TaskEvent } from '../src/index.ts';
import { deferred, uncapped, untilAborted, useTestEnv, waitFor } from './helpers.ts';

const env = useTestEnv();

function worker(handlers: Parameters<typeof createWorker>[0]['handlers']) {
  return createWorker({
    connectionString: env.url,
    handlers,
    concurrency: 4,
    leaseSeconds: 30,
    caps: uncapped,
    retryBaseSeconds: 0.05,
    retentionHours: 24,
    maintenanceIntervalMs: 0,
  });
}

it('releases a long-running task to pending at the end of the grace period, attempt unspent', async () => {
  const started = deferred<string>();
  let reason: unknown;
  const w = worker({
    long: async (task, ctx) => {
      started.resolve(task.id);
      ctx.progress(40, 'Rendering frames 40%');
      reason = await untilAborted(ctx.signal);
      return { shouldNotBeStored: true };
    },
  });
  const events: TaskEvent[] = [];
  w.onTaskEvent((e) => events.push(e));
  await w.start();
  const { task } = await env.store.submit({ kind: 'long', maxAttempts: 2 });
  await started.promise;
  expect((await env.store.get(task.id))?.attempts).toBe(1);

  await w.stop({ graceMs: 200 });
  expect(reason).toMatchObject({ reason: 'shutdown', taskId: task.id });
  const stored = await env.store.get(task.id);
  expect(stored).toMatchObject({ status: 'pending', attempts: 0, result: null, leaseOwner: null });
  expect(events.map((e) => e.type)).toEqual(['started', 'aborted', 'released']);
  const { rows } = await env.pool.query('select 1 from tasklane.workers where id = $1', [w.id]);
  expect(rows).toHaveLength(0);

  // Another worker picks it up and, this time, finishes it on its first counted attempt.
  const next = worker({ long: () => ({ finished: true }) });
  await next.start();
  await waitFor(async () => (await env.store.get(task.id))?.status === 'completed', { what: 'the task to complete' });
  expect(await env.store.get(task.id)).toMatchObject({ attempts: 1, result: { finished: true } });
  await next.stop();
});

it('lets running tasks finish within the grace period and claims nothing new', async () => {
  const release = deferred();
  const started: string[] = [];
  const w = worker({
    short: async (task) => {
      started.push(task.id);
      await release.promise;
      return { ok: true };
    },
  });
  await w.start();
  const { task } = await env.store.submit({ kind: 'short' });
  await waitFor(() => started.length === 1, { what: 'the task to start' });
  const stopping = w.stop({ graceMs: 20_000 });
  const { task: later } = await env.store.submit({ kind: 'short' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  release.resolve();
  await stopping;
  expect((await env.store.get(task.id))?.status).toBe('completed');
  expect((await env.store.get(later.id))?.status).toBe('pending');
  expect(started).toEqual([task.id]);
  expect(w.running).toBe(0);
});

it('releases running tasks at once when a second stop shortens the grace (a second Ctrl-C)', async () => {
  const started = deferred();
  let aborted = false;
  const w = worker({
    long: async (_task, ctx) => {
      started.resolve();
      await untilAborted(ctx.signal);
      aborted = true;
      return { shouldNotBeStored: true };
    },
  });
  await w.start();
  const { task } = await env.store.submit({ kind: 'long' });
  await started.promise;
  // An hour of grace: only the second stop can end this within the test's time.
  const first = w.stop({ graceMs: 3_600_000 });
  expect((await env.store.get(task.id))?.status).toBe('processing');
  expect(aborted).toBe(false);
  const second = w.stop({ graceMs: 0 });
  await Promise.all([first, second]);
  expect(second).toBe(first);
  expect(aborted).toBe(true);
  expect(await env.store.get(task.id)).toMatchObject({ status: 'pending', attempts: 0, leaseOwner: null });
});

import { expect, it } from 'vitest';
import { useTestEnv, waitFor } from './helpers.ts';

const env = useTestEnv();

/** Polling so slow it never fires within a test: any pickup must come from a wake-up. */
const NEVER = 600_000;

it('wakes on the event bus when work is submitted, without waiting for a poll', async () => {
  const ran: string[] = [];
  const worker = await env.worker({ pollIntervalMs: NEVER, handlers: { ping: (task) => void ran.push(task.id) } });
  // Let the start-up claim come back empty, so that only the notification can find the task.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const { task } = await env.store.submit({ kind: 'ping' });
  await waitFor(async () => (await env.store.get(task.id))?.status === 'completed', { what: 'the notified task to complete', timeoutMs: 15_000 });
  expect(ran).toEqual([task.id]);
  await worker.stop();
});

it('keeps claiming while slots free up, with neither notifications nor polls', async () => {
  const submitted = await env.store.submitMany(Array.from({ length: 60 }, () => ({ kind: 'chain' })));
  let ran = 0;
  await env.worker({
    bus: false,
    pollIntervalMs: NEVER,
    concurrency: 4,
    handlers: {
      chain: async () => {
        ran++;
        await new Promise((resolve) => setTimeout(resolve, 2));
        return null;
      },
    },
  });
  await waitFor(async () => {
    const tasks = await env.store.getMany(submitted.map((s) => s.task.id));
    return tasks.every((t) => t.status === 'completed');
  }, { what: 'all 60 tasks to complete' });
  expect(ran).toBe(60);
});

it('claims only the kinds it has handlers for', async () => {
  const { task: other } = await env.store.submit({ kind: 'unhandled' });
  const { task: mine } = await env.store.submit({ kind: 'handled' });
  await env.worker({ handlers: { handled: () => ({ ok: true }) } });
  await waitFor(async () => (await env.store.get(mine.id))?.status === 'completed', { what: 'the handled task to complete' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await env.store.get(other.id)).toMatchObject({ status: 'pending', attempts: 0 });
});

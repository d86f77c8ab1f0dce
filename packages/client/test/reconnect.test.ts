import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Task, TasklaneClient } from '../src/index.ts';
import { startLiveApi, type LiveApi } from './live-api.ts';

let live: LiveApi;
let client: TasklaneClient;
beforeAll(async () => {
  live = await startLiveApi();
  client = live.client();
}, 180_000);
afterAll(() => live?.close());

it('watch survives the API being killed and restarted, and ends with the terminal state reached while it was down', async () => {
  const task = await client.submit({ kind: 'rc_watch' });
  const updates = client.watch(task.id);
  const first = await updates.next();
  expect(first.value).toMatchObject({ status: 'PENDING' });

  await live.api.kill();
  // Everything happens while no API runs: only the restarted one can tell the client.
  const claimed = await live.driver.claim('rc_watch');
  await live.driver.progress(claimed, 70, 'While the API was down');
  await live.driver.complete(claimed, { survived: true });
  await live.api.restart();

  const rest: Task[] = [];
  for (let step = await updates.next(); !step.done; step = await updates.next()) rest.push(step.value);
  expect(rest.at(-1)).toMatchObject({ id: task.id, status: 'COMPLETED', result: { survived: true } });
  expect(rest.every((t) => t.version > (first.value as Task).version)).toBe(true);
}, 180_000);

it('waitFor survives a kill and restart in the middle of the task', async () => {
  const task = await client.submit({ kind: 'rc_wait' });
  const seen: Task[] = [];
  let processing!: () => void;
  const reachedProcessing = new Promise<void>((resolve) => (processing = resolve));
  const done = client.waitFor(task.id, {
    onProgress: (t) => {
      seen.push(t);
      if (t.status === 'PROCESSING') processing();
    },
  });
  // Observed from the start: it may settle while the test is still restarting the API.
  const outcome = done.then(
    () => expect.fail('expected the task to fail'),
    (error: unknown) => error,
  );
  const claimed = await live.driver.claim('rc_wait');
  await reachedProcessing;

  await live.api.kill();
  await live.driver.fail(claimed, { type: 'RenderError', message: 'GPU fell over', retryable: false });
  await live.api.restart();

  expect(await outcome).toMatchObject({ code: 'TASK_FAILED', errorType: 'RenderError', errorMessage: 'GPU fell over' });
  expect(seen.at(-1)).toMatchObject({ status: 'FAILED' });
}, 180_000);

import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ConnectionState, Task, TasklaneClient } from '../src/index.ts';
import { startLiveApi, type LiveApi } from './live-api.ts';

let live: LiveApi;
let client: TasklaneClient;
beforeAll(async () => {
  live = await startLiveApi();
  client = live.client();
});
afterAll(() => live?.close());

/** Reads the generator until `done` says so; throws if the stream ends first. */
async function readUntil(updates: AsyncGenerator<Task>, done: (task: Task) => boolean): Promise<Task[]> {
  const seen: Task[] = [];
  for (let step = await updates.next(); !step.done; step = await updates.next()) {
    seen.push(step.value);
    if (done(step.value)) return seen;
  }
  throw new Error(`the stream ended after ${seen.length} updates`);
}

it('watchAll delivers changes of matching kinds only, with increasing versions', async () => {
  const controller = new AbortController();
  const updates = client.watchAll({ kind: ['wa_yes'] }, { signal: controller.signal });
  const first = updates.next(); // opens the subscription
  // The server has no initial state to send: wait until the subscription is live before changing anything.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await client.submit({ kind: 'wa_no' });
  const task = await client.submit({ kind: 'wa_yes' });
  const claimed = await live.driver.claim('wa_yes');
  await live.driver.progress(claimed, 40, 'Rendering');
  await live.driver.complete(claimed, { ok: true });

  const seen = [(await first).value as Task, ...(await readUntil(updates, (t) => t.status === 'COMPLETED'))];
  controller.abort();
  expect(seen.every((t) => t.kind === 'wa_yes' && t.id === task.id)).toBe(true);
  expect(seen.at(-1)).toMatchObject({ status: 'COMPLETED', progress: 100, result: { ok: true } });
  const versions = seen.map((t) => t.version);
  expect(versions).toEqual([...versions].sort((a, b) => a - b));
});

it('onConnectionChange reports the drop and the reconnect, after which watchAll goes on', async () => {
  const states: ConnectionState[] = [];
  const stop = client.onConnectionChange((state) => states.push(state));
  const updates = client.watchAll({ kind: ['wa_restart'] });
  const next = updates.next();
  await new Promise((resolve) => setTimeout(resolve, 500));

  await live.api.kill();
  await live.api.restart();
  // Wait for the socket to come back before changing anything: changes meanwhile are not replayed.
  await expect.poll(() => states.at(-1), { timeout: 60_000 }).toBe('connected');
  expect(states).toContain('disconnected');

  const task = await client.submit({ kind: 'wa_restart' });
  await expect(next).resolves.toMatchObject({ value: { id: task.id, status: 'PENDING' } });
  await updates.return();
  stop();
}, 120_000);

it('queueStats answers the counts per status and the total cap', async () => {
  const stats = await client.queueStats();
  const pending = stats.byStatus.find((s) => s.status === 'PENDING');
  // wa_no and wa_restart are still pending from the tests above.
  expect(pending?.count).toBeGreaterThanOrEqual(2);
  expect(stats.totalCapacity).toMatchObject({ kind: null, processing: 0 });
  expect(stats.totalCapacity.cap).toBeGreaterThan(0);
});

import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { queueMessage, type ConcurrencyCaps } from '@tasklane/core';
import { createPool, queuePlaces, TaskStore, WorkerStore } from '../src/index.ts';
import { ApiKeyStore } from '../src/limits.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let database: TestDatabase;
let pool: ReturnType<typeof createPool>;
let store: TaskStore;
let worker: WorkerStore;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url });
  store = new TaskStore(pool);
  worker = new WorkerStore(pool, { workerId: 'w-places', leaseSeconds: 30 });
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});
beforeEach(async () => {
  await pool.query('delete from tasklane.tasks');
  await pool.query('delete from tasklane.api_keys');
  await pool.query('delete from tasklane.workers');
});

async function placeOf(id: string, caps: ConcurrencyCaps) {
  const task = (await store.get(id))!;
  return (await queuePlaces(pool, [task], caps)).get(id);
}

it('counts a pending task down to position 1 as the tasks ahead of it start', async () => {
  const caps = { total: 100, perKind: {} };
  const ids = (await store.submitMany(Array.from({ length: 5 }, () => ({ kind: 'video' })))).map((r) => r.task.id);
  const last = ids[4]!;
  const seen: number[] = [];
  for (let i = 0; i < 5; i++) {
    const place = await placeOf(last, caps);
    seen.push(place!.position!);
    expect(place!.ahead).toBe(place!.position! - 1);
    const [claimed] = await worker.claim(1, ['video'], caps);
    if (claimed!.id === last) break;
  }
  expect(seen).toEqual([5, 4, 3, 2, 1]);
  // Started: no longer in the queue.
  expect(await placeOf(last, caps)).toBeUndefined();
});

it("places a second owner's task by the fair claim order, not by submission time", async () => {
  const caps = { total: 100, perKind: {} };
  await store.submitMany(Array.from({ length: 50 }, () => ({ kind: 'video' })), { owner: 'owner-a' });
  const { task: b } = await store.submit({ kind: 'video' }, { owner: 'owner-b' });
  expect((await placeOf(b.id, caps))!.position).toBe(2);
  const [first, second] = await worker.claim(2, ['video'], caps);
  expect(second!.id).toBe(b.id);
  expect(first!.owner).toBe('owner-a');
});

it('names the cap that binds, with its value, and says it in the message', async () => {
  const caps = { total: 100, perKind: { video: 2 } };
  const ids = (await store.submitMany(Array.from({ length: 6 }, () => ({ kind: 'video' })))).map((r) => r.task.id);
  await worker.claim(2, ['video'], caps);
  const place = (await placeOf(ids[5]!, caps))!;
  expect(place).toMatchObject({ position: 4, ahead: 3, waitingFor: 'VIDEO_MAX_CONCURRENT', cap: 2 });
  expect(queueMessage(place, 'video')).toBe('Waiting: 3 ahead; VIDEO_MAX_CONCURRENT (2) reached');

  // The total cap binds when it is the one that is full.
  expect((await placeOf(ids[5]!, { total: 2, perKind: {} }))!).toMatchObject({ waitingFor: 'MAX_CONCURRENT_TASKS', cap: 2 });
  // An owner at its cap (OWNER_MAX_CONCURRENT or its key's) waits for that first.
  expect((await placeOf(ids[5]!, { total: 100, perKind: { video: 2 }, perOwner: 2 }))!).toMatchObject({ waitingFor: 'OWNER_MAX_CONCURRENT', cap: 2 });
  await new ApiKeyStore(pool).create({ owner: 'default', maxConcurrent: 5 });
  expect((await placeOf(ids[5]!, { total: 100, perKind: {}, perOwner: 2 }))!).toMatchObject({ waitingFor: null, cap: null });
});

it('waits for no_worker when no worker is alive, and for run_at while not due', async () => {
  const caps = { total: 100, perKind: {} };
  const { task } = await store.submit({ kind: 'video' });
  const place = (await placeOf(task.id, caps))!;
  expect(place).toMatchObject({ position: 1, ahead: 0, waitingFor: 'no_worker', etaSeconds: null });
  expect(queueMessage(place, 'video')).toBe('Waiting: next to start; no worker is running');

  const { task: later } = await store.submit({ kind: 'video', runAt: new Date(Date.now() + 120_000) });
  const scheduled = (await placeOf(later.id, caps))!;
  expect(scheduled).toMatchObject({ position: null, ahead: null, waitingFor: 'run_at' });
  expect(scheduled.etaSeconds).toBeGreaterThan(100);
  expect(scheduled.etaSeconds).toBeLessThanOrEqual(120);
});

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '@tasklane/core';
import { createPool, PgEventBus, pushedPlace, QueuePusher, TaskFeed, TaskStore, WorkerStore, type EventBus, type Following } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

const caps = { total: 100, perKind: {} };
let database: TestDatabase;
let pool: ReturnType<typeof createPool>;
let bus: EventBus;
let store: TaskStore;
let worker: WorkerStore;
let feed: TaskFeed;
let pusher: QueuePusher;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url, max: 4 });
  bus = new PgEventBus({ connectionString: database.url });
  await bus.start();
  store = new TaskStore(pool);
  worker = new WorkerStore(pool, { workerId: 'w-pusher', leaseSeconds: 30 });
});
afterAll(async () => {
  await bus.close();
  await pool.end();
  await database.drop();
});
beforeEach(async () => {
  await pool.query('delete from tasklane.tasks');
  feed = new TaskFeed(store, bus);
  // Rounds only when the test says: it counts reads and pushes round by round.
  pusher = new QueuePusher(feed, bus, pool, caps, { manual: true });
});
afterEach(() => {
  pusher.close();
  feed.close();
});

async function submit(n: number, kind = 'video'): Promise<Task[]> {
  return (await store.submitMany(Array.from({ length: n }, () => ({ kind })))).map((r) => r.task);
}

/** Claims one task of `kind` and waits until the pusher heard of it. */
async function claimOne(kind = 'video'): Promise<Task> {
  const [claimed] = await worker.claim(1, [kind], caps);
  await expect.poll(() => pusher.due).toBe(true);
  return claimed!;
}

const positionOf = (task: Task) => pushedPlace(task)?.place.position;

describe('QueuePusher', () => {
  it('counts a followed pending task down to position 1 as the tasks ahead of it start', async () => {
    const tasks = await submit(4);
    const following = feed.follow(tasks[3]!.id, { queuePushes: true });
    const first = await following.next();
    expect(positionOf(first.value as Task)).toBe(4);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      await claimOne();
      await pusher.flush();
      const next = await following.next();
      expect((next.value as Task).version).toBe(tasks[3]!.version);
      seen.push(positionOf(next.value as Task)!);
    }
    expect(seen).toEqual([3, 2, 1]);
    expect(pusher.pushes).toBe(3);
    following.close();
  });

  it('pushes nothing when the announced change did not move the task, and reads nothing for other kinds', async () => {
    const [ahead, mine, behind] = await submit(3);
    const following = feed.follow(mine!.id, { queuePushes: true });
    await following.next();
    // A task behind it is cancelled: a finish of its kind, so a round reads, but the place holds.
    await store.cancel(behind!.id);
    await expect.poll(() => pusher.due).toBe(true);
    await pusher.flush();
    expect(pusher.rounds).toBe(1);
    expect(pusher.placesRead).toBe(1);
    expect(pusher.pushes).toBe(0);
    // Another kind's claim: not even a read.
    await submit(1, 'image');
    await worker.claim(1, ['image'], caps);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await pusher.flush();
    expect(pusher.rounds).toBe(1);
    // The task ahead starts: now it moves, and the follower gets exactly that.
    await store.cancel(ahead!.id);
    await expect.poll(() => pusher.due).toBe(true);
    await pusher.flush();
    expect(pusher.pushes).toBe(1);
    expect(positionOf((await following.next()).value as Task)).toBe(1);
    following.close();
  });

  it('reads as many places per round as pending tasks are followed, however many claims came before it', async () => {
    const pending = await submit(40);
    const followed = pending.slice(30, 33);
    const followings: Following[] = followed.map((task) => feed.follow(task.id, { queuePushes: true }));
    for (const following of followings) await following.next();

    for (let i = 0; i < 10; i++) await worker.claim(1, ['video'], caps);
    await expect.poll(() => pusher.due).toBe(true);
    await pusher.flush();
    expect(pusher.rounds).toBe(1);
    expect(pusher.placesRead).toBe(3);

    // Twice the followers: twice the reads, still one round for a burst of claims.
    const more = pending.slice(33, 36).map((task) => feed.follow(task.id, { queuePushes: true }));
    for (const following of more) await following.next();
    for (let i = 0; i < 10; i++) await worker.claim(1, ['video'], caps);
    await expect.poll(() => pusher.due).toBe(true);
    await pusher.flush();
    expect(pusher.rounds).toBe(2);
    expect(pusher.placesRead).toBe(3 + 6);
    for (const following of [...followings, ...more]) {
      const next = await following.next();
      expect(positionOf(next.value as Task)).toBeLessThan(17);
      following.close();
    }
  });

  it('gives followers that take no pushes nothing but row changes', async () => {
    const [, mine] = await submit(2);
    const plain = feed.follow(mine!.id);
    const pushed = feed.follow(mine!.id, { queuePushes: true });
    expect(pushedPlace((await plain.next()).value as Task)).toBeUndefined();
    await pushed.next();
    await claimOne();
    await pusher.flush();
    expect(positionOf((await pushed.next()).value as Task)).toBe(1);
    // The plain follower's next state is the row's next version, not the push.
    await worker.claim(1, ['video'], caps);
    const next = (await plain.next()).value as Task;
    expect(next.status).toBe('processing');
    expect(pushedPlace(next)).toBeUndefined();
    plain.close();
    pushed.close();
  });

  it('makes at most one round per interval over a burst of claims', async () => {
    pusher.close();
    pusher = new QueuePusher(feed, bus, pool, caps);
    const pending = await submit(12);
    const following = feed.follow(pending[11]!.id, { queuePushes: true });
    await following.next();
    const started = Date.now();
    for (let i = 0; i < 10; i++) await worker.claim(1, ['video'], caps);
    // Drain what was pushed until the last claim shows.
    let last = 12;
    let pushes = 0;
    while (last > 2) {
      last = positionOf((await following.next()).value as Task)!;
      pushes++;
    }
    const elapsed = Date.now() - started;
    expect(pushes).toBe(pusher.pushes);
    expect(pushes).toBeLessThanOrEqual(Math.floor(elapsed / 1000) + 1);
    following.close();
  });
});

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

/**
 * Submits n tasks and waits until the bus has announced them: a submission starts a round for the
 * tasks followed, so a test that counts rounds must not have these arrive after it follows.
 */
async function submit(n: number, kind = 'video'): Promise<Task[]> {
  const heard = new Set<string>();
  let check = () => {};
  // Listening before the submit: its announcement may arrive before submitMany returns.
  const stop = bus.onChanges((changes) => {
    for (const change of changes) heard.add(change.id);
    check();
  });
  try {
    const tasks = (await store.submitMany(Array.from({ length: n }, () => ({ kind })))).map((r) => r.task);
    await new Promise<void>((resolve) => {
      check = () => void (tasks.every((t) => heard.has(t.id)) && resolve());
      check();
    });
    return tasks;
  } finally {
    stop();
  }
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

  it("pushes the moved place when another owner's fresh submission takes a turn ahead", async () => {
    const mine = (await store.submitMany(Array.from({ length: 3 }, () => ({ kind: 'video' })), { owner: 'owner-a' })).map((r) => r.task);
    const following = feed.follow(mine[2]!.id, { queuePushes: true });
    expect(positionOf((await following.next()).value as Task)).toBe(3);
    // Fair order: B's first task takes the queue head's turn, after A's first and before the rest.
    await store.submit({ kind: 'video' }, { owner: 'owner-b' });
    await expect.poll(() => pusher.due).toBe(true);
    await pusher.flush();
    expect(positionOf((await following.next()).value as Task)).toBe(4);
    expect(pusher.pushes).toBe(1);
    following.close();
  });

  it('pushes a lower ETA as the task ahead runs on, once it drifts past the tolerance', async () => {
    pusher.close();
    const oneAtATime = { total: 100, perKind: { video: 1 } };
    pusher = new QueuePusher(feed, bus, pool, oneAtATime, { manual: true });
    // History: video tasks take 60 s.
    const [done] = await submit(1);
    await worker.claim(1, ['video'], oneAtATime);
    await worker.complete([{ id: done!.id, attempt: 1, result: null }]);
    await pool.query(`update tasklane.tasks set started_at = completed_at - interval '60 seconds' where id = $1`, [done!.id]);
    const [running, mine] = await submit(2);
    await worker.claim(1, ['video'], oneAtATime);
    const following = feed.follow(mine!.id, { queuePushes: true });
    const etaOf = (task: Task) => pushedPlace(task)?.place.etaSeconds;
    const first = etaOf((await following.next()).value as Task)!;
    expect(first).toBeGreaterThan(55);
    expect(first).toBeLessThanOrEqual(60);
    const runningFor = (seconds: number) =>
      pool.query(`update tasklane.tasks set started_at = now() - make_interval(secs => $2) where id = $1`, [running!.id, seconds]);
    // Nothing is announced while the running task runs on: only the refresh reads the ETA again.
    await runningFor(30);
    pusher.refreshEtas();
    await pusher.flush();
    const second = etaOf((await following.next()).value as Task)!;
    expect(second).toBeGreaterThan(25);
    expect(second).toBeLessThanOrEqual(30);
    expect(pusher.pushes).toBe(1);
    // A second more is within the tolerance: read, not pushed.
    await runningFor(31);
    pusher.refreshEtas();
    await pusher.flush();
    expect(pusher.rounds).toBeGreaterThanOrEqual(2);
    expect(pusher.pushes).toBe(1);
    following.close();
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

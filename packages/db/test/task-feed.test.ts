import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '@tasklane/core';
import { createPool, TaskFeed, TaskStore, type EventBus, type TaskChange } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

/** A bus the test announces on by hand, so it can place an announcement exactly inside a read. */
class HandBus implements EventBus {
  connected = true;
  private listener: ((changes: TaskChange[]) => void) | undefined;
  private reconnectListener: (() => void) | undefined;
  async start(): Promise<void> {}
  onChanges(listener: (changes: TaskChange[]) => void): () => void {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
  onReconnect(listener: () => void): () => void {
    this.reconnectListener = listener;
    return () => (this.reconnectListener = undefined);
  }
  /** As after a dropped connection: whatever was announced meanwhile never arrived. */
  reconnect(): void {
    this.reconnectListener?.();
  }
  announce(task: Task): void {
    this.listener?.([{ id: task.id, version: task.version, status: task.status }]);
  }
  async close(): Promise<void> {}
}

let database: TestDatabase;
let pool: ReturnType<typeof createPool>;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url, max: 4 });
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

describe('TaskFeed', () => {
  it('reads again a task whose change is announced while the previous read is in flight', async () => {
    const store = new TaskStore(pool);
    const bus = new HandBus();
    // Holds the feed's next read open until the test lets it finish, as a slow database would.
    let release: (() => void) | undefined;
    let readStarted: (() => void) | undefined;
    const started = new Promise<void>((resolve) => (readStarted = resolve));
    const slowStore = Object.create(store) as TaskStore;
    slowStore.getMany = async (ids) => {
      const rows = await store.getMany(ids);
      if (!release) {
        readStarted?.();
        await new Promise<void>((resolve) => (release = resolve));
      }
      return rows;
    };
    const feed = new TaskFeed(slowStore, bus);
    const { task } = await store.submit({ kind: 'video' });
    const states: string[] = [];
    const following = (async () => {
      for await (const state of feed.follow(task.id)) states.push(state.status);
    })();
    await expect.poll(() => states).toEqual(['pending']);

    // Change 1 is announced; its read sees only change 1. Change 2 commits and is announced
    // while that read is still open: the feed must read once more, or the follower never ends.
    const processing = (await pool.query(`update tasklane.tasks set status = 'processing' where id = $1 returning version`, [task.id])).rows[0] as { version: number };
    bus.announce({ ...task, status: 'processing', version: processing.version });
    await started;
    const { task: cancelled } = await store.cancel(task.id);
    bus.announce(cancelled);
    release!();
    await following;
    expect(states).toEqual(['pending', 'processing', 'cancelled']);
    feed.close();
  });

  it('gives a follower that reads late the newest state instead of every step, and always the terminal one', async () => {
    const store = new TaskStore(pool);
    const bus = new HandBus();
    const feed = new TaskFeed(store, bus);
    const { task } = await store.submit({ kind: 'video' });
    const following = feed.follow(task.id);
    expect((await following.next()).value).toMatchObject({ status: 'pending', version: 1 });
    // Three changes land while nobody reads: only the newest is kept for the reader.
    let latest = task;
    for (const status of ['processing', 'pending', 'processing']) {
      latest = (await pool.query(`update tasklane.tasks set status = $2 where id = $1 returning version`, [task.id, status])).rows[0];
      bus.announce({ ...task, status: status as Task['status'], version: (latest as unknown as { version: number }).version });
    }
    await expect.poll(() => feed.rowsRead).toBeGreaterThanOrEqual(1);
    const { task: cancelled } = await store.cancel(task.id);
    bus.announce(cancelled);
    const states: string[] = [];
    for await (const state of following) states.push(`${state.status}@${state.version}`);
    expect(states.at(-1)).toBe(`cancelled@${cancelled.version}`);
    expect(states.length).toBeLessThan(4);
    expect(feed.size.tasks).toBe(0);
    feed.close();
  });

  it('pushes states to a sink in version order, holds the newest while the sink is full, and ends after the terminal one', async () => {
    const store = new TaskStore(pool);
    const bus = new HandBus();
    const feed = new TaskFeed(store, bus);
    const { task } = await store.submit({ kind: 'image' });
    const following = feed.follow(task.id);
    expect((await following.next()).value).toMatchObject({ version: 1 });
    const pushed: number[] = [];
    let ended: unknown = 'not yet';
    let accept = false;
    following.pushTo({
      next: (state) => {
        pushed.push(state.version);
        return accept;
      },
      end: (error) => (ended = error),
    });
    const claimed = (await pool.query(`update tasklane.tasks set status = 'processing' where id = $1 returning *`, [task.id])).rows[0] as { version: number };
    bus.announce({ ...task, status: 'processing', version: claimed.version });
    await expect.poll(() => pushed).toEqual([claimed.version]);
    // The sink said it is full: the next states wait, coalesced to the newest.
    const { task: cancelled } = await store.cancel(task.id);
    bus.announce(cancelled);
    await expect.poll(() => feed.rowsRead).toBeGreaterThanOrEqual(2);
    expect(pushed).toEqual([claimed.version]);
    accept = true;
    following.resume();
    expect(pushed).toEqual([claimed.version, cancelled.version]);
    expect(ended).toBeUndefined();
    expect(feed.size.tasks).toBe(0);
    feed.close();
  });

  it('fails a follower of an unknown task with NOT_FOUND and hands it nothing announced for that id', async () => {
    const store = new TaskStore(pool);
    const bus = new HandBus();
    const feed = new TaskFeed(store, bus);
    const following = feed.follow('tsk_00000000000000000000000000');
    await expect(following.next()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await following.next()).toEqual({ value: undefined, done: true });
    expect(feed.size.tasks).toBe(0);
    feed.close();
  });

  it('hands listeners to every task the changes they missed while the bus was away', async () => {
    const store = new TaskStore(pool);
    const bus = new HandBus();
    const feed = new TaskFeed(store, bus);
    const seen = new Map<string, string>();
    const stop = feed.watchAll((task) => seen.set(task.id, task.status));
    const { task: before } = await store.submit({ kind: 'image' });
    bus.announce(before);
    await expect.poll(() => seen.get(before.id)).toBe('pending');

    // Changes made while disconnected: nobody announces them.
    const { task: missed } = await store.submit({ kind: 'video' });
    await store.cancel(before.id);
    expect(seen.has(missed.id)).toBe(false);

    bus.reconnect();
    await expect.poll(() => [seen.get(missed.id), seen.get(before.id)]).toEqual(['pending', 'cancelled']);
    stop();
    feed.close();
  });
  it('sends listeners to every task each version once, however often a resync or an announcement reads it again', async () => {
    const store = new TaskStore(pool);
    const bus = new HandBus();
    const feed = new TaskFeed(store, bus);
    const seen: string[] = [];
    const stop = feed.watchAll((task) => seen.push(`${task.id} v${task.version} ${task.status}`));
    const { task } = await store.submit({ kind: 'image' });
    bus.announce(task);
    bus.announce(task);
    await expect.poll(() => seen.length).toBe(1);
    const cancelled = await store.cancel(task.id);
    bus.announce(cancelled.task);
    await expect.poll(() => seen.length).toBe(2);

    // A resync reads every row changed in the last seconds again: both states were sent already.
    bus.reconnect();
    bus.announce(task);
    const { task: other } = await store.submit({ kind: 'image' });
    bus.announce(other);
    await expect.poll(() => seen.at(-1)).toBe(`${other.id} v${other.version} pending`);
    // The resync also reads again what the tests before this one changed; only these two tasks matter here.
    expect(seen.filter((line) => line.startsWith(task.id) || line.startsWith(other.id))).toEqual([`${task.id} v${task.version} pending`, `${task.id} v${cancelled.task.version} cancelled`, `${other.id} v${other.version} pending`]);
    stop();
    feed.close();
  });
});

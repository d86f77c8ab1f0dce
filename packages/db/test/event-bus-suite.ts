import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createPool, TaskFeed, TaskStore, WorkerStore, type ChangeListener, type EventBus, type TaskChange } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

/** What one bus implementation brings to the shared suite. */
export interface BusFixture {
  /** A new, not yet started bus of this kind, for the suite's database. */
  makeBus(databaseUrl: string): EventBus;
  /** What the stores pass as `onChanges` so that their writes reach `bus` (undefined: the database announces). */
  publisher(bus: EventBus): ChangeListener | undefined;
  /** Cuts the bus's subscribing connection from the server side, as an outage or a failover would. */
  cutConnection(bus: EventBus, databaseUrl: string): Promise<void>;
  /** Cancels a task without announcing it on any bus: only a resync can reveal the change. */
  cancelSilently(pool: pg.Pool, id: string): Promise<void>;
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * One suite for every `EventBus`: LISTEN/NOTIFY and Redis must behave the same for the task feed
 * and the workers that sit on top of them.
 */
export function describeEventBus(name: string, fixture: () => BusFixture): void {
  describe(`${name} event bus`, () => {
    let database: TestDatabase;
    let pool: pg.Pool;
    let f: BusFixture;
    const open: EventBus[] = [];

    beforeAll(async () => {
      f = fixture();
      database = await createTestDatabase();
      pool = createPool({ connectionString: database.url, max: 4 });
    });
    afterEach(async () => {
      for (const bus of open.splice(0)) await bus.close();
    });
    afterAll(async () => {
      await pool.end();
      await database.drop();
    });

    async function started(): Promise<{ bus: EventBus; seen: TaskChange[] }> {
      const bus = f.makeBus(database.url);
      open.push(bus);
      const seen: TaskChange[] = [];
      bus.onChanges((changes) => seen.push(...changes));
      await bus.start();
      expect(bus.connected).toBe(true);
      return { bus, seen };
    }

    it('announces submits and cancels with the new version and status', async () => {
      const { bus, seen } = await started();
      const store = new TaskStore(pool, { onChanges: f.publisher(bus) });
      const { task } = await store.submit({ kind: 'video' });
      await waitFor('the submit', () => seen.find((c) => c.id === task.id && c.status === 'pending'));
      await store.cancel(task.id);
      const cancelled = await waitFor('the cancel', () => seen.find((c) => c.id === task.id && c.status === 'cancelled'));
      expect(cancelled.version).toBe(2);
    });

    it('tells a listener that names the statuses it needs only changes to those', async () => {
      const bus = f.makeBus(database.url);
      open.push(bus);
      const seen: TaskChange[] = [];
      bus.onChanges((changes) => seen.push(...changes), new Set(['cancelled']));
      await bus.start();
      const store = new TaskStore(pool, { onChanges: f.publisher(bus) });
      const { task } = await store.submit({ kind: 'video' });
      await store.cancel(task.id);
      // The submit was announced first, on the same channel: had it been passed on, it would be here.
      await waitFor('the cancel', () => seen.find((c) => c.id === task.id));
      expect(seen).toEqual([{ id: task.id, version: 2, status: 'cancelled' }]);
    });

    it('announces what workers do: claim, progress, completion', async () => {
      const { bus, seen } = await started();
      const onChanges = f.publisher(bus);
      const store = new TaskStore(pool, { onChanges });
      const worker = new WorkerStore(pool, { workerId: `w-${name}`, leaseSeconds: 30, onChanges });
      const { task } = await store.submit({ kind: 'bus_test' });
      const [claimed] = await worker.claim(1, ['bus_test'], { total: 100, perKind: {} });
      expect(claimed?.id).toBe(task.id);
      const held = { id: task.id, attempt: claimed!.attempts };
      expect(await worker.progress(held, 50, 'half')).toBe(true);
      expect(await worker.complete([{ ...held, result: { ok: true } }])).toEqual(new Set([task.id]));
      const mine = await waitFor('the completion', () => {
        const list = seen.filter((c) => c.id === task.id);
        return list.some((c) => c.status === 'completed') ? list : undefined;
      });
      expect(mine.map((c) => c.status)).toEqual(['pending', 'processing', 'processing', 'completed']);
      expect(mine.map((c) => c.version)).toEqual([1, 2, 3, 4]);
    });

    it('reconnects after losing its connection and lets followers resync what they missed', async () => {
      const { bus } = await started();
      let reconnects = 0;
      bus.onReconnect(() => reconnects++);
      const store = new TaskStore(pool, { onChanges: f.publisher(bus) });
      const feed = new TaskFeed(store, bus);
      try {
        const { task } = await store.submit({ kind: 'video' });
        const states: string[] = [];
        const following = (async () => {
          for await (const state of feed.follow(task.id)) states.push(state.status);
        })();
        await waitFor('the first state', () => (states.length > 0 ? true : undefined));
        // Nobody hears this change: it can only reach the follower through the resync.
        await f.cancelSilently(pool, task.id);
        await f.cutConnection(bus, database.url);
        await waitFor('the reconnect', () => (reconnects > 0 ? true : undefined));
        expect(bus.connected).toBe(true);
        await following;
        expect(states).toEqual(['pending', 'cancelled']);

        // And the bus works again after the reconnect.
        const { task: next } = await store.submit({ kind: 'video' });
        const after: string[] = [];
        const again = (async () => {
          for await (const state of feed.follow(next.id)) after.push(state.status);
        })();
        await waitFor('the follow', () => (after.length > 0 ? true : undefined));
        await store.cancel(next.id);
        await again;
        expect(after).toEqual(['pending', 'cancelled']);
      } finally {
        feed.close();
      }
    });
  });
}

import { afterAll, beforeAll } from 'vitest';
import type { TaskStatus } from '@tasklane/core';
import { createPool, TaskStore, type WorkerStore } from '@tasklane/db';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { createWorker, type Worker, type WorkerOptions } from '../src/index.ts';

export interface TestEnv {
  url: string;
  pool: ReturnType<typeof createPool>;
  store: TaskStore;
  /** A started worker on its own small pool, stopped after the file. */
  worker(options: Partial<WorkerOptions> & Pick<WorkerOptions, 'handlers'>): Promise<Worker>;
}

export const uncapped = { total: 100_000, perKind: {} };

/** A database of its own for the calling test file, and the workers it starts, cleaned up after it. */
export function useTestEnv(): TestEnv {
  let database: TestDatabase;
  const workers: Worker[] = [];
  const env = {
    worker: async (options) => {
      const worker = createWorker({
        connectionString: env.url,
        concurrency: 10,
        leaseSeconds: 30,
        caps: uncapped,
        pollIntervalMs: 200,
        graceMs: 2000,
        retryBaseSeconds: 0.05,
        retentionHours: 24,
        maintenanceIntervalMs: 0,
        ...options,
      });
      workers.push(worker);
      await worker.start();
      return worker;
    },
  } as TestEnv;
  beforeAll(async () => {
    database = await createTestDatabase();
    env.url = database.url;
    env.pool = createPool({ connectionString: database.url, max: 4 });
    env.store = new TaskStore(env.pool);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop({ graceMs: 0 })));
    await env.pool.end();
    await database.drop();
  });
  return env;
}

/** Polls until `check` returns a truthy value, then returns it; fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, { timeoutMs = 30_000, intervalMs = 25, what = 'condition' } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A promise with its resolve function, for handlers the test releases by hand. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export function untilAborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });
}

let kindCounter = 0;

/**
 * A task brought to `status` through the stores, with a kind of its own so that no other claim
 * can take it. `holder` is the worker store that claimed it (for processing and beyond).
 */
export async function taskIn(env: TestEnv, status: TaskStatus, holder: WorkerStore): Promise<{ id: string; attempt: number; kind: string }> {
  const kind = `k${++kindCounter}_${process.pid}`;
  const { task } = await env.store.submit({ kind, maxAttempts: 1 });
  if (status === 'pending') return { id: task.id, attempt: 0, kind };
  if (status === 'cancelled') {
    await env.store.cancel(task.id);
    return { id: task.id, attempt: 0, kind };
  }
  const [claimed] = await holder.claim(1, [kind], uncapped);
  const held = { id: task.id, attempt: claimed!.attempts, kind };
  if (status === 'completed') await holder.complete([{ id: held.id, attempt: held.attempt, result: { done: true } }]);
  if (status === 'failed') await holder.fail({ id: held.id, attempt: held.attempt, error: { type: 'Setup', message: 'setup', retryable: false } });
  return held;
}

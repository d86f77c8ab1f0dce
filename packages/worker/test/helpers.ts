import { afterAll, beforeAll } from 'vitest';
import { createPool, TaskStore } from '@tasklane/db';
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

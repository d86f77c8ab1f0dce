import type { JsonValue, Task } from '@tasklane/core';
import { createPool, WorkerStore } from '@tasklane/db';

/** One claimed attempt: the fencing token for every write that follows. */
export interface Claimed {
  task: Task;
  id: string;
  attempt: number;
}

/**
 * Moves tasks through their states by writing to Postgres as a worker would, so a test decides
 * exactly when each change happens. Give each test its own kind so claims never collide.
 */
export interface TaskDriver {
  /** Claims the one pending task of `kind` (throws when there is none). */
  claim(kind: string): Promise<Claimed>;
  progress(claimed: Claimed, percent: number, message?: string): Promise<void>;
  complete(claimed: Claimed, result: JsonValue): Promise<void>;
  /**
   * Fails the attempt: for good, or with `retryable` back to pending, due at once (the driver
   * retries with no backoff, so a test can claim it again straight away).
   */
  fail(claimed: Claimed, type: string, message: string, options?: { retryable?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export function createTaskDriver(databaseUrl: string): TaskDriver {
  const pool = createPool({ connectionString: databaseUrl, max: 2, applicationName: 'tasklane-test-driver' });
  const store = new WorkerStore(pool, { workerId: `test-driver-${process.pid}`, leaseSeconds: 300, retryBaseSeconds: 0 });
  return {
    async claim(kind) {
      const [task] = await store.claim(1, [kind], { total: 1000, perKind: {} });
      if (!task) throw new Error(`no pending ${kind} task to claim`);
      return { task, id: task.id, attempt: task.attempts };
    },
    async progress(claimed, percent, message) {
      if (!(await store.progress(claimed, percent, message ?? null))) throw new Error(`lost ${claimed.id}`);
    },
    async complete(claimed, result) {
      const done = await store.complete([{ id: claimed.id, attempt: claimed.attempt, result }]);
      if (!done.has(claimed.id)) throw new Error(`could not complete ${claimed.id}`);
    },
    async fail(claimed, type, message, { retryable = false } = {}) {
      const status = await store.fail({ id: claimed.id, attempt: claimed.attempt, error: { type, message, retryable } });
      if (status !== (retryable ? 'pending' : 'failed')) throw new Error(`could not fail ${claimed.id} (${String(status)})`);
    },
    close: () => pool.end(),
  };
}

import type { JsonValue, Task, TaskErrorInfo } from '@tasklane/core';
import { createPool } from './connect.ts';
import { WorkerStore } from './worker-store.ts';

/** A task this driver claimed, by its id or as the task itself. */
export type TaskRef = string | Pick<Task, 'id'>;

/**
 * The one worker every test drives by hand: it moves tasks through their states by writing to
 * Postgres as a worker would, so a test decides exactly when each change happens. Give each test
 * its own kind so claims never collide. Test-only, exported from `@tasklane/db/testing`.
 */
export interface TaskDriver {
  /** The worker id its claims record (attempt history shows it). */
  readonly workerId: string;
  /** Claims the one pending task of `kind` (throws when there is none). */
  claim(kind: string): Promise<Task>;
  /** Claims exactly `count` pending tasks of `kind` (throws when fewer are runnable). */
  claimMany(kind: string, count: number): Promise<Task[]>;
  progress(task: TaskRef, percent: number, message?: string): Promise<void>;
  complete(task: TaskRef, result: JsonValue, service?: string): Promise<void>;
  /**
   * Fails the attempt and answers what became of the task: `pending` for a retry (due at once, as
   * the driver retries with no backoff, so a test can claim it again straight away) or `failed`.
   */
  fail(task: TaskRef, error: TaskErrorInfo, progress?: number): Promise<'pending' | 'failed'>;
  close(): Promise<void>;
}

// Wide open: a file's earlier claims stay running, and must never stop a later one.
const caps = { total: 10_000, perKind: {} };

export function createTaskDriver(databaseUrl: string): TaskDriver {
  const pool = createPool({ connectionString: databaseUrl, max: 2, applicationName: 'tasklane-test-driver' });
  const store = new WorkerStore(pool, { workerId: `test-driver-${process.pid}`, leaseSeconds: 300, retryBaseSeconds: 0 });
  // The attempt each claimed task is on: the fencing token every later write carries.
  const attempts = new Map<string, number>();
  const held = (task: TaskRef) => {
    const id = typeof task === 'string' ? task : task.id;
    const attempt = attempts.get(id);
    if (attempt === undefined) throw new Error(`task ${id} was not claimed by this driver`);
    return { id, attempt };
  };

  async function take(kind: string, count: number): Promise<Task[]> {
    const claimed = await store.claim(count, [kind], caps);
    for (const task of claimed) attempts.set(task.id, task.attempts);
    return claimed;
  }

  return {
    workerId: store.workerId,
    async claim(kind) {
      const [task] = await take(kind, 1);
      if (!task) throw new Error(`no pending ${kind} task to claim`);
      return task;
    },
    async claimMany(kind, count) {
      const claimed = await take(kind, count);
      if (claimed.length !== count) throw new Error(`claimed ${claimed.length} pending ${kind} tasks, expected ${count}`);
      return claimed;
    },
    async progress(task, percent, message) {
      const token = held(task);
      if (!(await store.progress(token, percent, message ?? null))) throw new Error(`lost ${token.id}`);
    },
    async complete(task, result, service) {
      const token = held(task);
      const done = await store.complete([{ ...token, result, service: service ?? null }]);
      if (!done.has(token.id)) throw new Error(`could not complete ${token.id}`);
    },
    async fail(task, error, progress) {
      const token = held(task);
      const status = await store.fail({ ...token, error, ...(progress === undefined ? {} : { progress }) });
      if (!status) throw new Error(`could not fail ${token.id}`);
      return status;
    },
    close: () => pool.end(),
  };
}

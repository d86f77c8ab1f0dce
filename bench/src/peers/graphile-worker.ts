import { Logger, makeWorkerUtils, run, runMigrations, type Runner, type RunnerOptions } from 'graphile-worker';

/** graphile-worker's settings for one run: its defaults, or the batching its performance docs recommend. */
export type GraphileMode = 'default' | 'batched';

export const GRAPHILE_CONCURRENCY = 24;

const silent = new Logger(() => () => {});

function options(url: string, mode: GraphileMode, concurrency: number): RunnerOptions {
  const base: RunnerOptions = { connectionString: url, concurrency, noHandleSignals: true, logger: silent };
  if (mode === 'default') return base;
  return {
    ...base,
    preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  };
}

export async function installGraphile(url: string): Promise<void> {
  await runMigrations({ connectionString: url, logger: silent });
}

/** Adds `n` no-op jobs with `addJobs` in chunks; returns jobs per second. */
export async function graphileAddJobs(url: string, n: number, chunk: number): Promise<number> {
  const utils = await makeWorkerUtils({ connectionString: url, logger: silent });
  try {
    const started = performance.now();
    for (let done = 0; done < n; done += chunk) {
      const size = Math.min(chunk, n - done);
      await utils.addJobs(Array.from({ length: size }, (_, i) => ({ identifier: 'noop', payload: { i: done + i } })));
    }
    return n / ((performance.now() - started) / 1000);
  } finally {
    await utils.release();
  }
}

/**
 * Drains the jobs already queued with no-op handlers; tasks/s = n / (last completion − start).
 * Completion time is taken from the `job:complete` event (after its batch is written when batched:
 * the event fires from the completion path).
 */
export async function graphileDrain(url: string, n: number, mode: GraphileMode, timeoutMs: number): Promise<{ perSecond: number; completed: number }> {
  let completed = 0;
  let last = 0;
  let runner: Runner | undefined;
  const started = performance.now();
  const done = new Promise<void>((resolve) => {
    void (async () => {
      runner = await run({ ...options(url, mode, GRAPHILE_CONCURRENCY), taskList: { noop: async () => {} } });
      runner.events.on('job:complete', () => {
        completed++;
        last = performance.now();
        if (completed >= n) resolve();
      });
    })();
  });
  const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
  await Promise.race([done, timer]);
  // Runner start is part of the drain, as it is for the other systems.
  await runner?.stop();
  const seconds = ((completed >= n ? last : performance.now()) - started) / 1000;
  return { perSecond: completed / seconds, completed };
}

/**
 * Sequential latency: add one job, time until its handler starts, wait for it to finish, repeat.
 * Uses the batched settings' opposite, the defaults (`localQueue` off), which is what gives
 * graphile-worker its lowest latency.
 */
export async function graphileLatency(url: string, count: number): Promise<number[]> {
  const utils = await makeWorkerUtils({ connectionString: url, logger: silent });
  let onStart: ((at: number) => void) | undefined;
  let onDone: (() => void) | undefined;
  const runner = await run({
    ...options(url, 'default', GRAPHILE_CONCURRENCY),
    taskList: {
      noop: async () => {
        onStart?.(performance.now());
      },
    },
  });
  runner.events.on('job:complete', () => onDone?.());
  const samples: number[] = [];
  try {
    // Let the runner connect and LISTEN before timing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (let i = 0; i < count; i++) {
      const startedAt = new Promise<number>((resolve) => (onStart = resolve));
      const finished = new Promise<void>((resolve) => (onDone = resolve));
      const t0 = performance.now();
      await utils.addJob('noop', { i });
      const t1 = await Promise.race([startedAt, new Promise<number>((resolve) => setTimeout(() => resolve(Number.NaN), 5000).unref())]);
      samples.push(t1 - t0);
      await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    }
  } finally {
    await runner.stop();
    await utils.release();
  }
  return samples.filter(Number.isFinite);
}

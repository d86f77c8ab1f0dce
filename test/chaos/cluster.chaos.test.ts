import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, freePort } from '@tasklane/db';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { callAny } from './failover-client.ts';
import { API_MAIN, Proc, saveLogs, sleep, stopAll, until, waitReady, WORKER_MAIN } from './processes.ts';
import { followSocket, followSse, type Followed } from './subscribers.ts';

/**
 * The multi-replica shape under faults: 2 API and 3 worker processes on one Postgres run 2,000
 * tasks while one worker and one API are SIGKILLed and started again. Afterwards every task is in
 * the state its input asks for, no task was completed twice, the cluster-wide caps held at every
 * sample, and every subscriber, moved to the other API when its own died, saw its task's end.
 */

const TASKS = 2000;
const CAPS = { total: 40, video: 15, image: 20 };
const SUBSCRIBE_EVERY = 8; // 250 subscribers, half SSE, half WebSocket
const FAIL_EVERY = 10; // content_policy failures
const CANCEL_EVERY = 40; // long tasks cancelled while running (50)

type Expected = 'completed' | 'failed' | 'cancelled';

interface Planned {
  index: number;
  kind: 'video' | 'image';
  input: Record<string, unknown>;
  expected: Expected;
  idempotencyKey: string;
  id?: string;
  follow?: Promise<Followed>;
  /** What DELETE answered, for the tasks cancelled while running. */
  cancelStatus?: number;
}

function plan(): Planned[] {
  const tasks: Planned[] = [];
  for (let index = 0; index < TASKS; index++) {
    const kind = index % 2 === 0 ? 'video' : 'image';
    let expected: Expected = 'completed';
    // 0.05 to 0.3 seconds; the ones to cancel run long enough to be caught running.
    let duration = 0.05 + ((index * 37) % 26) / 100;
    const input: Record<string, unknown> = { prompt: `chaos ${index}` };
    if (index % CANCEL_EVERY === 7) {
      expected = 'cancelled';
      duration = 2.5;
    } else if (index % FAIL_EVERY === 3) {
      expected = 'failed';
      input.fail = 'content_policy';
    }
    input.duration_seconds = duration;
    tasks.push({ index, kind, input, expected, idempotencyKey: randomUUID() });
  }
  return tasks;
}

describe('a cluster of 2 APIs and 3 workers under SIGKILL', () => {
  let database: TestDatabase;
  let pool: ReturnType<typeof createPool>;
  const procs: Proc[] = [];
  let apis: string[] = [];
  let apiPorts: number[] = [];

  function env(extra: Record<string, string>): Record<string, string> {
    return {
      DATABASE_URL: database.url,
      MAX_CONCURRENT_TASKS: String(CAPS.total),
      VIDEO_MAX_CONCURRENT: String(CAPS.video),
      IMAGE_MAX_CONCURRENT: String(CAPS.image),
      WORKER_CONCURRENCY: '16',
      LEASE_SECONDS: '3',
      DATABASE_POOL_SIZE: '8',
      ...extra,
    };
  }
  const startApi = (i: number) => {
    const proc = new Proc(`api${i}`, API_MAIN, env({ PORT: String(apiPorts[i]), LOG_LEVEL: 'error' }));
    procs.push(proc);
    return proc;
  };
  const startWorker = (i: number) => {
    const proc = new Proc(`worker${i}`, WORKER_MAIN, env({ LOG_LEVEL: 'info' }));
    procs.push(proc);
    return proc;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = createPool({ connectionString: database.url, max: 3 });
    apiPorts = [await freePort(), await freePort()];
    apis = apiPorts.map((port) => `http://127.0.0.1:${port}`);
  });
  afterAll(async () => {
    await stopAll(procs);
    console.log(`chaos: process logs in ${saveLogs(procs, 'chaos')}`);
    await pool?.end();
    await database?.drop();
  });

  it('runs every task to the right end exactly once, within the caps, and tells every subscriber', { timeout: 300_000 }, async () => {
    const api = [startApi(0), startApi(1)];
    const workers = [startWorker(0), startWorker(1), startWorker(2)];
    await Promise.all(apis.map((base) => waitReady(base)));

    // Caps: sampled all along; a sample over a cap is a violation whatever happens afterwards.
    const peaks: Record<string, number> = { total: 0, video: 0, image: 0 };
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          const { rows } = await pool.query<{ kind: string; n: number }>(
            `select kind, count(*)::int as n from tasklane.tasks where status = 'processing' group by kind`,
          );
          let total = 0;
          for (const row of rows) {
            peaks[row.kind] = Math.max(peaks[row.kind] ?? 0, row.n);
            total += row.n;
          }
          peaks.total = Math.max(peaks.total!, total);
          samples++;
        } catch {
          // Never expected here (Postgres stays up), but a sample lost is not a failure.
        }
        await sleep(50);
      }
    })();

    const tasks = plan();
    const stopFollowing = new AbortController();
    let submitted = 0;
    const submitOne = async (task: Planned) => {
      const answer = await callAny(apis, task.index, 'POST', '/api/v1/tasks', {
        body: { kind: task.kind, input: task.input },
        headers: { 'idempotency-key': task.idempotencyKey },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      task.id = answer.body.task_id as string;
      submitted++;
      if (task.index % SUBSCRIBE_EVERY === 0) {
        const follow = task.index % (2 * SUBSCRIBE_EVERY) === 0 ? followSse : followSocket;
        task.follow = follow(apis, task.index / SUBSCRIBE_EVERY, task.id, stopFollowing.signal);
      }
      if (task.expected === 'cancelled') {
        // Polled once a second: a tighter poll from 50 waiting clients loads the APIs more than the tasks do.
        await until(`${task.id} running`, async () => {
          const got = await callAny(apis, task.index, 'GET', `/api/v1/tasks/${task.id}`);
          return got.body.status === 'processing' ? true : undefined;
        }, 120_000, 1000);
        const cancelled = await callAny(apis, task.index + 1, 'DELETE', `/api/v1/tasks/${task.id}`);
        task.cancelStatus = cancelled.status;
      }
    };
    // 24 clients submitting at once, spread over both APIs.
    const queue = [...tasks];
    const cancels: Promise<void>[] = [];
    const submitters = Array.from({ length: 24 }, async () => {
      for (let task = queue.shift(); task; task = queue.shift()) {
        if (task.expected === 'cancelled') cancels.push(submitOne(task));
        else await submitOne(task);
      }
    });

    // Midway: kill a worker (its tasks must be swept and retried) and an API (its clients and
    // subscribers move to the other), then start both again, the API on its old port.
    await until('half the tasks submitted', () => (submitted >= TASKS / 2 ? true : undefined), 120_000, 50);
    // Killed while it holds running tasks, so that the sweep and the retries are exercised.
    const victim = `%-${workers[0]!.child.pid}-%`;
    await until('worker0 holding tasks', async () => {
      const held = await pool.query<{ n: number }>(
        `select count(*)::int as n from tasklane.tasks where status = 'processing' and lease_owner like $1 and started_at < now() - interval '30 milliseconds'`,
        [victim],
      );
      return held.rows[0]!.n >= 3 ? true : undefined;
    }, 60_000, 10);
    workers[0]!.kill('SIGKILL');
    api[0]!.kill('SIGKILL');
    await Promise.all([workers[0]!.exited, api[0]!.exited]);
    const killedAt = new Date();
    await sleep(1500);
    workers.push(startWorker(3));
    api.push(startApi(0));

    await Promise.all(submitters);
    await Promise.all(cancels);
    await waitReady(apis[0]!);
    await until('every task finished', async () => {
      const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from tasklane.tasks where status in ('pending', 'processing')`);
      return rows[0]!.n === 0 ? true : undefined;
    }, 150_000, 500);
    sampling = false;
    await sampler;

    // 1. Every task in the state its input asks for.
    const { rows } = await pool.query<{ id: string; status: string; error: { type: string } | null; attempts: number; completed_at: Date | null }>(
      'select id, status, error, attempts, completed_at from tasklane.tasks',
    );
    expect(rows).toHaveLength(TASKS);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const wrong: string[] = [];
    for (const task of tasks) {
      const row = byId.get(task.id!);
      let expected: string = task.expected;
      // A DELETE that lost the race to the end answers 409; then the task keeps that end.
      if (task.expected === 'cancelled' && task.cancelStatus === 409) expected = row?.status === 'failed' ? 'failed' : 'completed';
      if (row?.status !== expected) wrong.push(`${task.id}: ${row?.status} (expected ${expected}, cancel answered ${task.cancelStatus})`);
      if (expected === 'failed' && row?.error?.type !== (task.kind === 'video' ? 'VideoGenerationError' : 'ImageGenerationError')) {
        wrong.push(`${task.id}: error ${JSON.stringify(row?.error)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(tasks.filter((t) => t.expected === 'cancelled' && t.cancelStatus === 200).length).toBeGreaterThan(0);

    // 2. Exactly one completing run per completed task, none for the others, across every
    // worker process that ever ran (the killed one included). One exception, and it proves
    // nothing ran twice: the killed worker's completion can commit while its answer (and so the
    // log line) is still on the way when SIGKILL lands. Such a task has no line, and it must
    // have completed before the kill.
    const completions = new Map<string, number>();
    for (const worker of workers) {
      for (const line of worker.jsonLines()) {
        if (line.msg === 'task completed' && typeof line.taskId === 'string') completions.set(line.taskId, (completions.get(line.taskId) ?? 0) + 1);
      }
    }
    const badCounts: string[] = [];
    for (const row of rows) {
      const count = completions.get(row.id) ?? 0;
      const unloggedBeforeKill = count === 0 && row.status === 'completed' && row.completed_at !== null && row.completed_at <= killedAt;
      if (count !== (row.status === 'completed' ? 1 : 0) && !unloggedBeforeKill) badCounts.push(`${row.id} (${row.status}): ${count} completions`);
    }
    expect(badCounts).toEqual([]);
    // The kill did hit running work: some task needed a second attempt.
    expect(rows.some((r) => r.attempts > 1)).toBe(true);

    // 3. The caps held at every sample.
    expect(samples).toBeGreaterThan(50);
    expect(peaks.total).toBeLessThanOrEqual(CAPS.total);
    expect(peaks.video).toBeLessThanOrEqual(CAPS.video);
    expect(peaks.image).toBeLessThanOrEqual(CAPS.image);

    // 4. Every subscriber saw its task's terminal state, the one the database holds.
    const followed = tasks.filter((t) => t.follow);
    const timer = setTimeout(() => stopFollowing.abort(), 60_000);
    const results = await Promise.all(followed.map(async (t) => ({ task: t, seen: await t.follow! })));
    clearTimeout(timer);
    const missed = results.filter(({ task, seen }) => seen.last?.status !== byId.get(task.id!)?.status);
    expect(missed.map(({ task, seen }) => `${task.id}: saw ${seen.last?.status}, is ${byId.get(task.id!)?.status}`)).toEqual([]);
    // Subscribers on the killed API had to move; at least one did and still saw the end.
    expect(results.some(({ seen }) => seen.reconnects > 0)).toBe(true);

    // 5. Nothing else died: every process not killed by the test is still running.
    const died = procs.filter((p) => p !== workers[0] && p !== api[0] && !p.running);
    expect(died.map((p) => p.tail())).toEqual([]);
    console.log(
      `chaos: ${TASKS} tasks, ${samples} cap samples, peaks ${JSON.stringify(peaks)}, ` +
        `${rows.filter((r) => r.attempts > 1).length} retried after the kill, ${results.length} subscribers ` +
        `(${results.filter(({ seen }) => seen.reconnects > 0).length} reconnected)`,
    );
  });
});

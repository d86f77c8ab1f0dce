import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPool, freePort, TaskStore, WorkerStore } from '@tasklane/db';
import { createTestDatabase, findPgBouncer, startPgBouncer, type PgBouncer, type TestDatabase } from '@tasklane/db/testing';
import { API_MAIN, Proc, stopAll, until, waitReady, WORKER_MAIN } from '../chaos/processes.ts';

/**
 * The whole system as an operator runs it behind Debian 12's PgBouncer in transaction mode:
 * DATABASE_URL through the pooler, LISTEN and migrations direct. The pooler gets two server
 * connections for a worker pool of ten, so the refusals that decided a run by luck before
 * (42P05 "already exists", 26000 "does not exist": 3 of 11 runs stalled) come in every round.
 */
const pgbouncer = findPgBouncer();
if (!pgbouncer) console.warn('pgbouncer test skipped: pgbouncer not found (Debian: apt-get install pgbouncer; .ci/run installs it)');

const ROUNDS = 3;
const TASKS_PER_ROUND = 20;
const FALLBACK = 'named prepared statements are off';
const REFUSAL = /already exists|does not exist|42P05|26000/;

interface RestTask {
  task_id: string;
  status: string;
}

describe.skipIf(!pgbouncer)('Tasklane behind PgBouncer in transaction mode', { timeout: 240_000 }, () => {
  let database: TestDatabase;
  let bouncer: PgBouncer;
  const procs: Proc[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    bouncer = await startPgBouncer({ upstreamUrl: database.url, poolSize: 2 });
  });
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') for (const p of procs) console.error(p.tail(40));
  });
  afterAll(async () => {
    await stopAll(procs);
    await bouncer?.stop();
    await database?.drop();
  });

  function env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: bouncer.url(database.url),
      LISTEN_DATABASE_URL: database.url,
      MIGRATION_DATABASE_URL: database.url,
      VIDEO_MAX_CONCURRENT: '25',
      MAX_CONCURRENT_TASKS: '25',
      ...extra,
    };
  }

  async function startApi(extra: Record<string, string> = {}): Promise<{ proc: Proc; base: string }> {
    const port = await freePort();
    const proc = new Proc('api', API_MAIN, env({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...extra }));
    procs.push(proc);
    const base = `http://127.0.0.1:${port}`;
    await waitReady(base, 150_000);
    return { proc, base };
  }

  function startWorker(extra: Record<string, string> = {}): Proc {
    const proc = new Proc('worker', WORKER_MAIN, env({ WORKER_CONCURRENCY: '10', LOG_LEVEL: 'info', ...extra }));
    procs.push(proc);
    return proc;
  }

  async function submit(base: string, input: Record<string, unknown>): Promise<RestTask> {
    const response = await fetch(`${base}/api/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'video', input }),
    });
    expect(response.status).toBe(202);
    return (await response.json()) as RestTask;
  }

  async function status(base: string, id: string): Promise<string> {
    const response = await fetch(`${base}/api/v1/tasks/${id}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as RestTask).status;
  }

  /** Reads the task's SSE stream to its end; answers every status it carried, in order. */
  async function follow(base: string, id: string): Promise<string[]> {
    const response = await fetch(`${base}/api/v1/tasks/${id}/events`, { headers: { accept: 'text/event-stream' } });
    expect(response.status).toBe(200);
    const statuses: string[] = [];
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const data = buffer
          .slice(0, end)
          .split('\n')
          .find((line) => line.startsWith('data: '));
        buffer = buffer.slice(end + 2);
        if (data) statuses.push((JSON.parse(data.slice(6)) as RestTask).status);
      }
    }
    return statuses;
  }

  /** Lines about a refused statement other than the one line that announces the fallback. */
  function refusals(proc: Proc): string[] {
    return `${proc.stdout}\n${proc.stderr}`.split('\n').filter((line) => REFUSAL.test(line) && !line.includes(FALLBACK));
  }

  function fallbacks(proc: Proc): number {
    return `${proc.stdout}\n${proc.stderr}`.split('\n').filter((line) => line.includes(FALLBACK)).length;
  }

  it(`completes, streams and cancels tasks submitted over REST, in ${ROUNDS} rounds of fresh processes`, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const { proc: api, base } = await startApi();
      const healthPort = await freePort();
      const worker = startWorker({ WORKER_HEALTH_PORT: String(healthPort) });

      const followed = await submit(base, { prompt: `followed ${round}`, duration_seconds: 1 });
      const streamed = follow(base, followed.task_id);
      const quick = await Promise.all(
        Array.from({ length: TASKS_PER_ROUND - 1 }, (_, i) => submit(base, { prompt: `quick ${round}.${i}`, duration_seconds: 0.2 })),
      );
      const long = await submit(base, { prompt: `cancelled ${round}`, duration_seconds: 120 });

      await until(`round ${round}: the long task running`, async () => ((await status(base, long.task_id)) === 'processing' ? true : undefined), 120_000);
      const cancel = await fetch(`${base}/api/v1/tasks/${long.task_id}`, { method: 'DELETE' });
      expect(cancel.status).toBe(200);
      await until(
        `round ${round}: the handler told of the cancel`,
        () => (worker.jsonLines().some((l) => l.msg === 'task aborted' && l.taskId === long.task_id && l.reason === 'cancelled') ? true : undefined),
        60_000,
      );

      const ids = [followed, ...quick].map((t) => t.task_id);
      await until(
        `round ${round}: all ${TASKS_PER_ROUND} completed`,
        async () => ((await Promise.all(ids.map((id) => status(base, id)))).every((s) => s === 'completed') ? true : undefined),
        120_000,
        500,
      );
      const statuses = await streamed;
      expect(statuses.at(-1)).toBe('completed');
      expect(statuses).toContain('processing');
      expect(await status(base, long.task_id)).toBe('cancelled');
      // Fallen back and working: ready, and saying which way its statements run.
      const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', namedStatements: false });
      expect((await fetch(`${base}/readyz`)).status).toBe(200);

      await stopAll([api, worker]);
      expect(refusals(api)).toEqual([]);
      expect(refusals(worker)).toEqual([]);
      expect(fallbacks(api)).toBeLessThanOrEqual(1);
      expect(fallbacks(worker)).toBeLessThanOrEqual(1);
    }
    // The small server pool makes the refusal certain: every round's worker met one and fell back.
    expect(procs.filter((p) => p.name === 'worker').map(fallbacks)).toEqual(Array.from({ length: ROUNDS }, () => 1));
  });

  it('reports named statements the pooler keeps refusing on both /readyz, in metrics and in the retry log', async () => {
    // One server connection where another client already prepared the same statements: with
    // DATABASE_PREPARED_STATEMENTS=on every Parse of this API and worker is refused (42P05).
    const single = await startPgBouncer({ upstreamUrl: database.url, poolSize: 1 });
    const poison = createPool({ connectionString: single.url(database.url), max: 1, statements: { mode: 'on' } });
    const direct = createPool({ connectionString: database.url, max: 1 });
    try {
      const { task } = await new TaskStore(direct).submit({ kind: 'video', input: { duration_seconds: 0 } });
      await new TaskStore(poison).get(task.id);
      const poisoner = new WorkerStore(poison, { workerId: 'poisoner', leaseSeconds: 2 });
      await poisoner.heartbeat([]);
      await poisoner.claim(1, ['none'], { total: 1, perKind: {} });

      // Webhook sending off: its claims would queue on the one server connection beside the
      // statements this test watches, and make the API's reads wait behind them on a loaded machine.
      const wedged = { DATABASE_URL: single.url(database.url), DATABASE_PREPARED_STATEMENTS: 'on', LEASE_SECONDS: '2', WEBHOOK_DELIVERY: 'off' };
      const { proc: api, base } = await startApi(wedged);
      const healthPort = await freePort();
      const worker = startWorker({ ...wedged, WORKER_HEALTH_PORT: String(healthPort) });
      const health = `http://127.0.0.1:${healthPort}`;

      const readyz = await until(
        'the API to report its failing read',
        async () => {
          const answer = await fetch(`${base}/api/v1/tasks/${task.id}`);
          expect(answer.status).toBe(503);
          const ready = await fetch(`${base}/readyz`);
          return ready.status === 503 ? ((await ready.json()) as { database: string }) : undefined;
        },
        60_000,
        500,
      );
      expect(readyz.database).toMatch(/^statement tasklane_get has failed for \d+ s: prepared statement "tasklane_get_[0-9a-f]+" already exists \(42P05\)$/);
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/tasklane_database_statement_errors_total\{statement="tasklane_get",code="42P05"\} [1-9]/);

      const workerReadyz = await until(
        'the worker to report its failing statements',
        async () => {
          const ready = await fetch(`${health}/readyz`);
          return ready.status === 503 ? ((await ready.json()) as { cause: string }) : undefined;
        },
        90_000,
        500,
      );
      expect(workerReadyz.cause).toMatch(/^statement tasklane_(claim|heartbeat) has failed for \d+ s: .*already exists \(42P05\)$/);
      expect(await (await fetch(`${health}/metrics`)).text()).toMatch(/tasklane_database_statement_errors_total\{statement="tasklane_heartbeat",code="42P05"\} [1-9]/);
      // The retry log says for how long: past a lease, without a success in between.
      await until('a retry line more than a lease into the failure', () =>
        worker.jsonLines().some((l) => l.msg === 'heartbeat failed; retrying' && l.code === '42P05' && (l.failingForMs as number) > 2000) ? true : undefined,
      );
      await stopAll([api, worker]);
    } finally {
      await poison.end();
      await direct.end();
      await single.stop();
    }
  });
});

import type pg from 'pg';
import { createPool, TaskStore } from '@tasklane/db';
import { loadWorkerRuntime } from '../landed.ts';
import { round, sleep, summarize, waitFor } from '../stats.ts';
import { UNCAPPED } from '../tasklane-worker.ts';
import { ratio, SkipScenario, type Scenario } from '../types.ts';
import { countStatements } from '../statement-counter.ts';

interface TableWrites {
  tasks_upd: number;
  tasks_ins: number;
  workers_upd: number;
  workers_ins: number;
}

async function tableWrites(pool: pg.Pool): Promise<TableWrites> {
  const { rows } = await pool.query<{ relname: string; upd: number; ins: number }>(
    `select relname, n_tup_upd::int as upd, n_tup_ins::int as ins from pg_stat_user_tables
     where schemaname = 'tasklane' and relname in ('tasks', 'workers')`,
  );
  const get = (name: string) => rows.find((r) => r.relname === name) ?? { upd: 0, ins: 0 };
  return { tasks_upd: get('tasks').upd, tasks_ins: get('tasks').ins, workers_upd: get('workers').upd, workers_ins: get('workers').ins };
}

/**
 * Many tasks running at once, each waiting on its abort signal, across a few workers with short
 * leases. Measures lease writes during a quiet window (they should follow workers, not tasks),
 * then cancels a sample and times cancel → handler's signal.
 */
export const longRunning: Scenario = async (ctx, result) => {
  const runtime = await loadWorkerRuntime();
  if (typeof runtime === 'string') throw new SkipScenario(runtime);
  const workerCount = 4;
  const tasks = ctx.quick ? 400 : 2000;
  const leaseSeconds = 6;
  const windowMs = ctx.quick ? 3000 : 15_000;
  const cancels = ctx.quick ? 50 : 200;
  Object.assign(result.params, { tasks, workers: workerCount, lease_seconds: leaseSeconds, heartbeat_every_s: leaseSeconds / 3, window_s: windowMs / 1000, cancels });
  const url = await ctx.freshDatabase('long_running');
  const admin = createPool({ connectionString: url, max: 2, applicationName: 'tasklane-bench' });
  const store = new TaskStore(admin);
  const aborted = new Map<string, number>();
  let started = 0;
  const pools = Array.from({ length: workerCount }, () => createPool({ connectionString: url, max: 10, applicationName: 'tasklane-bench-worker' }));
  const counters = pools.map(countStatements);
  const workers = pools.map((pool) =>
    runtime.createWorker({
      pool,
      connectionString: url,
      concurrency: Math.ceil(tasks / workerCount),
      caps: UNCAPPED,
      leaseSeconds,
      graceMs: 0,
      handlers: {
        long: (task, taskCtx) =>
          new Promise<null>((resolve) => {
            started++;
            const timer = setTimeout(() => resolve(null), 600_000);
            taskCtx.signal.addEventListener('abort', () => {
              aborted.set(task.id, performance.now());
              clearTimeout(timer);
              resolve(null);
            });
          }),
      },
    }),
  );
  try {
    await Promise.all(workers.map((w) => w.start()));
    const submitted = await store.submitMany(Array.from({ length: tasks }, (_, i) => ({ kind: 'long', input: { i } })));
    const all = await waitFor(() => started >= tasks, 60_000, 50);
    result.figures.running_at_once = started;
    if (!all) result.notes.push(`only ${started} of ${tasks} started within 60 s`);
    await sleep(1500); // let claims' stats flush before the window

    const versionSum = async () =>
      (await admin.query<{ v: number }>('select coalesce(sum(version), 0)::float8 as v from tasklane.tasks')).rows[0]!.v;
    const statementsBefore = counters.map((c) => new Map(c));
    const before = await tableWrites(admin);
    const versionsBefore = await versionSum();
    const t0 = performance.now();
    await sleep(windowMs);
    await sleep(1200); // stats are flushed by backends about once a second
    const after = await tableWrites(admin);
    const versionsAfter = await versionSum();
    const seconds = (performance.now() - t0 - 1200) / 1000;
    const delta = (name: string) => counters.reduce((sum, c, i) => sum + (c.get(name) ?? 0) - (statementsBefore[i]!.get(name) ?? 0), 0);
    // Each heartbeat and each claim writes the worker's one lease row.
    const leaseStatements = delta('tasklane_heartbeat') + delta('tasklane_claim');
    result.figures.lease_write_statements_per_s = round(leaseStatements / seconds);
    result.figures.lease_write_statements_per_s_per_worker = round(leaseStatements / seconds / workerCount);
    // Every change to a task row bumps its version: the exact count of task-row writes.
    result.figures.task_row_writes_per_s = round((versionsAfter - versionsBefore) / seconds);
    // pg_stat_user_tables, for the record (backends flush these lazily, so they lag by seconds).
    result.figures.pg_stat_workers_rows_written_per_s = round((after.workers_upd + after.workers_ins - before.workers_upd - before.workers_ins) / seconds);
    result.figures.pg_stat_tasks_rows_updated_per_s = round((after.tasks_upd - before.tasks_upd) / seconds);
    result.figures.lease_writes_per_s_per_1000_running_tasks = round((leaseStatements / seconds + result.figures.task_row_writes_per_s) / (started / 1000));

    // Cancel a sample, one every 20 ms, and time until each handler's signal fires.
    const sample = submitted.slice(0, cancels).map((s) => s.task.id);
    const cancelAt = new Map<string, number>();
    for (const id of sample) {
      cancelAt.set(id, performance.now());
      await store.cancel(id);
      await sleep(20);
    }
    await waitFor(() => sample.every((id) => aborted.has(id)), 10_000, 20);
    const latencies = sample.filter((id) => aborted.has(id)).map((id) => aborted.get(id)! - cancelAt.get(id)!);
    const s = summarize(latencies);
    result.figures.cancel_to_abort_p50_ms = round(s.p50);
    result.figures.cancel_to_abort_p99_ms = round(s.p99);
    result.figures.cancel_to_abort_max_ms = round(s.max);
    result.figures.cancels_aborted = latencies.length;
    result.ratios.push(
      ratio('task-row writes per s while running (lease cost per task)', result.figures.task_row_writes_per_s, '<=', 0.5),
      ratio(
        'lease writes per worker vs one per heartbeat',
        round(result.figures.lease_write_statements_per_s_per_worker / (3 / leaseSeconds)),
        '<=',
        1.5,
      ),
      ratio('cancel-to-abort p99 ms', round(s.p99), '<=', 500),
    );
  } finally {
    await Promise.all(workers.map((w) => w.stop({ graceMs: 0 })));
    await Promise.all(pools.map((p) => p.end().catch(() => {})));
    await admin.end();
  }
};

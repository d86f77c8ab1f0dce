import pg from 'pg';
import { createPool, TaskStore } from '@tasklane/db';
import { GRAPHILE_CONCURRENCY, graphileAddJobs, graphileDrain, installGraphile } from '../peers/graphile-worker.ts';
import { PGBOSS_BATCH, PGBOSS_WORKERS, pgBossDrain, pgBossInsert } from '../peers/pg-boss.ts';
import { round, sleep } from '../stats.ts';
import { startWorkers } from '../tasklane-worker.ts';
import { sumCounts } from '../statement-counter.ts';
import { ratio, type Scenario } from '../types.ts';

const CHUNK = 1000;

function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** Counts completions announced on the change channel: proof that every completion sent its event. */
async function listenForCompletions(url: string): Promise<{ count: () => number; close: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: url, application_name: 'tasklane-bench-listen' });
  await client.connect();
  let completed = 0;
  client.on('notification', (message) => {
    if (!message.payload) return;
    for (const entry of message.payload.split(' ')) if (entry.endsWith(':c')) completed++;
  });
  await client.query('listen tasklane_task');
  return { count: () => completed, close: () => client.end() };
}

/** Submits n no-op tasks with submitMany in chunks; returns tasks per second. */
async function tasklaneSubmit(store: TaskStore, n: number): Promise<number> {
  const started = performance.now();
  for (let done = 0; done < n; done += CHUNK) {
    const size = Math.min(CHUNK, n - done);
    await store.submitMany(Array.from({ length: size }, (_, i) => ({ kind: 'noop', input: { i: done + i } })));
  }
  return n / ((performance.now() - started) / 1000);
}

export const throughput: Scenario = async (ctx, result) => {
  const n = envInt('BENCH_N', ctx.quick ? 5_000 : 50_000);
  const workerCount = envInt('BENCH_TASKLANE_WORKERS', 2);
  const slots = envInt('BENCH_TASKLANE_SLOTS', 500);
  const timeoutMs = ctx.quick ? 5_000 : 180_000;
  Object.assign(result.params, {
    n,
    submit_chunk: CHUNK,
    tasklane_workers_in_one_process: workerCount,
    tasklane_slots_per_worker: slots,
    graphile_concurrency: GRAPHILE_CONCURRENCY,
    pgboss_workers: PGBOSS_WORKERS,
    pgboss_batch: PGBOSS_BATCH,
  });
  const url = await ctx.freshDatabase('throughput');
  await installGraphile(url);

  // Bulk submit, Tasklane then graphile-worker, same chunk size.
  const pool = createPool({ connectionString: url, max: 4, applicationName: 'tasklane-bench' });
  const store = new TaskStore(pool);
  try {
    ctx.log(`throughput: submitting ${n} tasks`);
    const submitRate = await tasklaneSubmit(store, n);
    result.figures.bulk_submit_per_s = round(submitRate, 0);
    await pool.query('analyze tasklane.tasks');

    // Drain with the worker runtime.
    const listener = await listenForCompletions(url);
    let completedEvents = 0;
    const startedWall = Date.now();
    const workers = await startWorkers(url, workerCount, { noop: async () => ({ ok: true }) }, { concurrency: slots });
    for (const w of workers.workers) w.onTaskEvent((e) => void (e.type === 'completed' && completedEvents++));
    const deadline = Date.now() + timeoutMs;
    while (completedEvents < n && Date.now() < deadline) await sleep(20);
    await workers.stop();
    result.figures.claim_statements = sumCounts(workers.statements, 'tasklane_claim');
    result.figures.complete_statements = sumCounts(workers.statements, 'tasklane_complete');
    result.figures.tasks_per_claim = round(n / Math.max(1, result.figures.claim_statements), 1);
    result.figures.tasks_per_complete = round(n / Math.max(1, result.figures.complete_statements), 1);
    await sleep(200); // the last notifications
    await listener.close();
    const { rows } = await pool.query<{ done: number; good: number; last: Date | null; first_claim: Date | null }>(
      `select count(*)::int as done,
              count(*) filter (where result is not null and version >= 3)::int as good,
              max(completed_at) as last, min(started_at) as first_claim
       from tasklane.tasks where status = 'completed'`,
    );
    const row = rows[0]!;
    const seconds = ((row.last?.getTime() ?? Date.now()) - startedWall) / 1000;
    result.figures.tasks_per_s = round(row.done / seconds, 0);
    result.figures.completed = row.done;
    result.figures.completed_with_result_and_version = row.good;
    result.figures.completions_notified = listener.count();
    result.figures.first_claim_after_start_ms = round((row.first_claim?.getTime() ?? Number.NaN) - startedWall, 0);
    if (row.done < n) result.notes.push(`Tasklane completed only ${row.done} of ${n} within ${timeoutMs / 1000} s`);
  } finally {
    await pool.end();
  }

  ctx.log('throughput: graphile-worker (defaults)');
  const gwSubmit = await graphileAddJobs(url, n, CHUNK);
  const gwDefault = await graphileDrain(url, n, 'default', timeoutMs);
  ctx.log('throughput: graphile-worker (batched)');
  const gwSubmit2 = await graphileAddJobs(url, n, CHUNK);
  const gwBatched = await graphileDrain(url, n, 'batched', timeoutMs);
  result.peers['graphile-worker add_jobs'] = { bulk_submit_per_s: round((gwSubmit + gwSubmit2) / 2, 0) };
  result.peers['graphile-worker default'] = { tasks_per_s: round(gwDefault.perSecond, 0), completed: gwDefault.completed };
  result.peers['graphile-worker batched'] = { tasks_per_s: round(gwBatched.perSecond, 0), completed: gwBatched.completed };

  ctx.log('throughput: pg-boss');
  const bossSubmit = await pgBossInsert(url, n, CHUNK);
  const boss = await pgBossDrain(url, n, timeoutMs);
  result.peers['pg-boss'] = { tasks_per_s: round(boss.perSecond, 0), completed: boss.completed, bulk_submit_per_s: round(bossSubmit, 0) };

  for (const [peer, figures] of Object.entries(result.peers)) {
    if (figures.completed !== undefined && figures.completed < n) {
      result.notes.push(`${peer} drained ${figures.completed} of ${n} within ${timeoutMs / 1000} s; its rate is over that part`);
    }
  }
  const tl = result.figures.tasks_per_s!;
  result.ratios.push(
    ratio('tasks/s vs graphile-worker batched', round(tl / gwBatched.perSecond), '>=', 1.25),
    ratio('tasks/s vs graphile-worker default', round(tl / gwDefault.perSecond), '>=', 8),
    ratio('tasks/s vs pg-boss', round(tl / boss.perSecond), '>=', 1),
    ratio('bulk submit vs graphile-worker add_jobs', round(result.figures.bulk_submit_per_s! / result.peers['graphile-worker add_jobs'].bulk_submit_per_s!), '>=', 1),
  );
};

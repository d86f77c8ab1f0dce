/**
 * Times bulk cancel and bulk retry over many tasks, page by page, while a claimer keeps claiming
 * another kind: how long each bounded statement runs, and whether claims stall behind it.
 * `BULK_N` tasks (default 10,000); `DATABASE_URL` picks the server (else an embedded one).
 */
import { createPool, TaskOperations, TaskStore, WorkerStore } from '@tasklane/db';
import { openBenchDatabase } from '../database.ts';
import { percentile, round } from '../stats.ts';

const n = Number(process.env.BULK_N ?? 10_000);
const caps = { total: 1_000_000, perKind: {} };
const db = await openBenchDatabase((m) => process.stderr.write(`${m}\n`));
try {
  const url = await db.create('bulk_timing');
  const pool = createPool({ connectionString: url, max: 4 });
  const store = new TaskStore(pool);
  const operations = new TaskOperations(store, pool);
  for (let done = 0; done < n; done += 1000) {
    await store.submitMany(Array.from({ length: Math.min(1000, n - done) }, (_, i) => ({ kind: 'bulk', metadata: { shard: String((done + i) % 10) } })));
  }
  await store.submitMany(Array.from({ length: 5000 }, () => ({ kind: 'other' })));
  await pool.query('analyze tasklane.tasks');

  // The claimer: one task at a time of another kind, completed at once, timed.
  const worker = new WorkerStore(pool, { workerId: 'bulk-claimer', leaseSeconds: 60 });
  const claims: number[] = [];
  let stop = process.env.BULK_CLAIMER === '0';
  const claimer = (async () => {
    while (!stop) {
      const t0 = performance.now();
      const [task] = await worker.claim(1, ['other'], caps);
      claims.push(performance.now() - t0);
      if (!task) break;
      await worker.complete([{ id: task.id, attempt: task.attempts, result: null }]);
    }
  })();

  for (const action of ['cancel', 'retry'] as const) {
    const pages: number[] = [];
    let after: string | undefined;
    let matched = 0;
    let changed = 0;
    do {
      const t0 = performance.now();
      const page = action === 'cancel' ? await operations.cancelMatching({ kind: ['bulk'] }, { after }) : await operations.retryMatching({ kind: ['bulk'], status: ['cancelled'] }, { after });
      pages.push(performance.now() - t0);
      matched += page.matched;
      changed += page.changed;
      after = page.nextCursor ?? undefined;
    } while (after);
    if (changed !== n) throw new Error(`${action}: changed ${changed} of ${n}`);
    console.log(
      `${action}: ${n} tasks in ${pages.length} calls; per call p50 ${round(percentile(pages, 50))} ms, max ${round(Math.max(...pages))} ms; matched ${matched}, changed ${changed}`,
    );
  }
  stop = true;
  await claimer;
  console.log(`claims of another kind meanwhile: ${claims.length}, p50 ${round(percentile(claims, 50))} ms, p99 ${round(percentile(claims, 99))} ms, max ${round(Math.max(...claims))} ms`);
  const { rows } = await pool.query(`explain (analyze, format text) select * from tasklane.tasks where metadata is not null and metadata @> '{"shard":"3"}'::jsonb limit 100`);
  console.log(rows.map((r) => r['QUERY PLAN']).join('\n'));
  await pool.end();
} finally {
  await db.close();
}

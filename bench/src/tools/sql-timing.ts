/** Times the claim and completion statements on their own (and explains them with auto_explain). */
import pg from 'pg';
import { createPool, TaskStore, WorkerStore } from '@tasklane/db';
import { openBenchDatabase } from '../database.ts';

const n = Number(process.env.PROFILE_N ?? 20_000);
const batch = Number(process.env.PROFILE_BATCH ?? 500);
const explain = process.env.PROFILE_EXPLAIN === '1';
const VARIANTS: Record<string, string[]> = {
  as_is: [],
  no_created_indexes: ['drop index tasklane.tasks_created', 'drop index tasklane.tasks_owner_created'],
  no_version_trigger: ['drop trigger tasks_bump_version on tasklane.tasks'],
  no_notify_triggers: ['drop trigger tasks_notify_update on tasklane.tasks', 'drop trigger tasks_notify_insert on tasklane.tasks'],
};
const chosen = (process.env.PROFILE_VARIANTS ?? Object.keys(VARIANTS).join(',')).split(',');
const db = await openBenchDatabase((m) => process.stderr.write(`${m}\n`));
try {
 for (const round of [1, 2]) for (const variant of chosen) {
  const url = await db.create(`sqltiming_${variant}_${round}`);
  const admin = createPool({ connectionString: url, max: 1 });
  for (const statement of VARIANTS[variant]!) await admin.query(statement);
  await admin.end();
  process.stdout.write(`${variant}: `);
  const pool = createPool({ connectionString: url, max: 1 });
  const store = new TaskStore(pool);
  let t = performance.now();
  for (let done = 0; done < n; done += 1000) {
    await store.submitMany(Array.from({ length: Math.min(1000, n - done) }, (_, i) => ({ kind: 'noop', input: { i: done + i } })));
  }
  process.stdout.write(`submit ${((performance.now() - t) / (n / 1000)).toFixed(2)} ms per 1000; `);
  await pool.query('analyze tasklane.tasks');
  if (explain) {
    const c = await pool.connect();
    await c.query(`load 'auto_explain'`);
    await c.query(`set auto_explain.log_min_duration = 0; set auto_explain.log_analyze = on; set auto_explain.log_nested_statements = on; set auto_explain.log_level = notice; set auto_explain.log_timing = on; set auto_explain.log_triggers = on`);
    c.on('notice', (m) => console.log(m.message));
    c.release();
  }
  const ws = new WorkerStore(pool, { workerId: 'w1', leaseSeconds: 30 });
  const caps = { total: 1_000_000, perKind: {} };
  let claimMs = 0;
  let completeMs = 0;
  let rounds = 0;
  for (;;) {
    t = performance.now();
    const tasks = await ws.claim(batch, ['noop'], caps);
    claimMs += performance.now() - t;
    if (tasks.length === 0) break;
    t = performance.now();
    await ws.complete(tasks.map((x) => ({ id: x.id, attempt: x.attempts, result: { ok: true } })));
    completeMs += performance.now() - t;
    rounds++;
    if (explain && rounds >= 2) break;
  }
  console.log(`claim ${(claimMs / rounds).toFixed(2)} ms, complete ${(completeMs / rounds).toFixed(2)} ms per ${batch} (${rounds} rounds)`);
  await pool.end();
 }
} finally {
  await db.close();
}
void pg;
process.exit(0);

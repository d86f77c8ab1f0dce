/** Times the claim and completion statements on their own (and explains them with auto_explain). */
import pg from 'pg';
import { createPool, TaskStore, WorkerStore } from '@tasklane/db';
import { openBenchDatabase } from '../database.ts';

const n = Number(process.env.PROFILE_N ?? 20_000);
const batch = Number(process.env.PROFILE_BATCH ?? 500);
const explain = process.env.PROFILE_EXPLAIN === '1';
// More than 1: each owner's share submitted in one call, the owners taking turns, as the
// throughput scenario's fairness variant does.
// A list ("1,100") runs each in turn within every round, so the owner counts share the machine's
// state.
const ownerCounts = (process.env.PROFILE_OWNERS ?? '1').split(',').map(Number);
const rounds = Number(process.env.PROFILE_ROUNDS ?? 2);
const VARIANTS: Record<string, string[]> = {
  as_is: [],
  no_created_indexes: ['drop index tasklane.tasks_created', 'drop index tasklane.tasks_owner_created'],
  no_version_trigger: ['drop trigger tasks_bump_version on tasklane.tasks'],
  no_notify_triggers: ['drop trigger tasks_notify_update on tasklane.tasks', 'drop trigger tasks_notify_insert on tasklane.tasks'],
};
const chosen = (process.env.PROFILE_VARIANTS ?? Object.keys(VARIANTS).join(',')).split(',');
const db = await openBenchDatabase((m) => process.stderr.write(`${m}\n`));
try {
 for (let round = 1; round <= rounds; round++) for (const variant of chosen) for (const owners of ownerCounts) {
  const url = await db.create(`sqltiming_${variant}_${owners}_${round}`);
  const admin = createPool({ connectionString: url, max: 1 });
  for (const statement of VARIANTS[variant]!) await admin.query(statement);
  await admin.end();
  process.stdout.write(`${variant}, ${owners} owner(s): `);
  const pool = createPool({ connectionString: url, max: 1 });
  const store = new TaskStore(pool);
  let t = performance.now();
  const chunk = Math.max(1, Math.min(1000, Math.floor(n / owners)));
  for (let done = 0, call = 0; done < n; done += chunk, call++) {
    const tasks = Array.from({ length: Math.min(chunk, n - done) }, (_, i) => ({ kind: 'noop', input: { i: done + i } }));
    await store.submitMany(tasks, owners > 1 ? { owner: `tenant-${call % owners}` } : {});
  }
  process.stdout.write(`submit ${((performance.now() - t) / (n / 1000)).toFixed(2)} ms per 1000; `);
  await pool.query('analyze tasklane.tasks');
  if (explain) {
    const c = await pool.connect();
    await c.query(`load 'auto_explain'`);
    await c.query(`set auto_explain.log_min_duration = 0; set auto_explain.log_analyze = on; set auto_explain.log_nested_statements = on; set auto_explain.log_level = notice; set auto_explain.log_timing = on; set auto_explain.log_triggers = on; set auto_explain.log_buffers = on`);
    c.on('notice', (m) => console.log(m.message));
    c.release();
  }
  const ws = new WorkerStore(pool, { workerId: 'w1', leaseSeconds: 30 });
  const caps = { total: 1_000_000, perKind: {} };
  let claimMs = 0;
  let completeMs = 0;
  let batches = 0;
  for (;;) {
    t = performance.now();
    const tasks = await ws.claim(batch, ['noop'], caps);
    claimMs += performance.now() - t;
    if (tasks.length === 0) break;
    t = performance.now();
    await ws.complete(tasks.map((x) => ({ id: x.id, attempt: x.attempts, result: { ok: true } })));
    completeMs += performance.now() - t;
    batches++;
    if (explain && batches >= 2) break;
  }
  console.log(`claim ${(claimMs / batches).toFixed(2)} ms, complete ${(completeMs / batches).toFixed(2)} ms per ${batch} (${batches} batches)`);
  await pool.end();
 }
} finally {
  await db.close();
}
void pg;
process.exit(0);

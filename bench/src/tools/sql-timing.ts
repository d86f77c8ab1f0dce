/** Times the claim and completion statements on their own (and explains them with auto_explain). */
import { readFileSync } from 'node:fs';
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
  no_version_trigger: ['drop trigger tasks_bump_version on tasklane.tasks'],
  no_notify_triggers: ['drop trigger tasks_notify_update on tasklane.tasks', 'drop trigger tasks_notify_insert on tasklane.tasks'],
};
const chosen = (process.env.PROFILE_VARIANTS ?? Object.keys(VARIANTS).join(',')).split(',');
/** A local backend's user + system CPU time in ms (NaN when its /proc entry is not readable here). */
function backendCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

const db = await openBenchDatabase((m) => process.stderr.write(`${m}\n`));
try {
 for (let round = 1; round <= rounds; round++) for (const variant of chosen) for (const owners of ownerCounts) {
  const url = await db.create(`sqltiming_${variant}_${owners}_${round}`);
  const admin = createPool({ connectionString: url, max: 1 });
  for (const statement of VARIANTS[variant]!) await admin.query(statement);
  await admin.end();
  process.stdout.write(`${variant}, ${owners} owner(s): `);
  // One connection, so one backend runs every statement: its CPU time (from /proc, on this
  // machine's server) is a figure that other load on the machine barely moves.
  const pool = createPool({ connectionString: url, max: 1 });
  const store = new TaskStore(pool);
  const backend = (await pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  let t = performance.now();
  const submitCpu0 = backendCpuMs(backend);
  const chunk = Math.max(1, Math.min(1000, Math.floor(n / owners)));
  for (let done = 0, call = 0; done < n; done += chunk, call++) {
    const tasks = Array.from({ length: Math.min(chunk, n - done) }, (_, i) => ({ kind: 'noop', input: { i: done + i } }));
    await store.submitMany(tasks, owners > 1 ? { owner: `tenant-${call % owners}` } : {});
  }
  process.stdout.write(
    `submit ${((performance.now() - t) / (n / 1000)).toFixed(2)} ms per 1000 (backend CPU ${(((backendCpuMs(backend) - submitCpu0) * 1000) / n).toFixed(1)} µs per task); `,
  );
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
  let claimCpu = 0;
  let completeCpu = 0;
  let batches = 0;
  for (;;) {
    t = performance.now();
    let cpu = backendCpuMs(backend);
    const tasks = await ws.claim(batch, ['noop'], caps);
    claimMs += performance.now() - t;
    claimCpu += backendCpuMs(backend) - cpu;
    if (tasks.length === 0) break;
    t = performance.now();
    cpu = backendCpuMs(backend);
    await ws.complete(tasks.map((x) => ({ id: x.id, attempt: x.attempts, result: { ok: true } })));
    completeMs += performance.now() - t;
    completeCpu += backendCpuMs(backend) - cpu;
    batches++;
    if (explain && batches >= 2) break;
  }
  const cpuNote = Number.isNaN(claimCpu) ? '' : `; backend CPU per task: claim ${((claimCpu * 1000) / (batches * batch)).toFixed(1)} µs, complete ${((completeCpu * 1000) / (batches * batch)).toFixed(1)} µs`;
  console.log(`claim ${(claimMs / batches).toFixed(2)} ms, complete ${(completeMs / batches).toFixed(2)} ms per ${batch} (${batches} batches)${cpuNote}`);
  await pool.end();
 }
} finally {
  await db.close();
}
void pg;
process.exit(0);

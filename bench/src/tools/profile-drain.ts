/**
 * Submit N no-op tasks, then drain them with the throughput scenario's worker set-up, printing the
 * submit and drain rates only: a small loop for `node --cpu-prof` (run with
 * `node --cpu-prof --import tsx bench/src/tools/profile-drain.ts`). PROFILE_N tasks (default 30,000),
 * PROFILE_OWNERS owners (default 1).
 */
import { createPool, TaskStore } from '@tasklane/db';
import { openBenchDatabase } from '../database.ts';
import { startWorkers } from '../tasklane-worker.ts';
import { sleep } from '../stats.ts';
import { readdirSync, readFileSync } from 'node:fs';

/** CPU ticks (user + system, 1/100 s) of this process's descendants (the embedded Postgres), by pid. */
function childTicks(): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(f[1]));
      ticks.set(Number(name), Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]));
    } catch {
      // gone
    }
  }
  let sum = 0;
  for (const [pid, t] of ticks) {
    let p = parent.get(pid);
    while (p !== undefined && p > 1 && p !== process.pid) p = parent.get(p);
    if (p === process.pid) sum += t;
  }
  return sum;
}

const n = Number(process.env.PROFILE_N ?? 30_000);
// PROFILE_OWNERS > 1 submits as the throughput scenario's fairness variant does: one owner's share
// per call, the owners taking turns.
const owners = Number(process.env.PROFILE_OWNERS ?? 1);
const phase = process.env.PROFILE_PHASE ?? 'both';
const db = await openBenchDatabase((m) => process.stderr.write(`${m}\n`));
try {
  const url = await db.create('profile');
  const pool = createPool({ connectionString: url, max: 4 });
  const store = new TaskStore(pool);
  let cpu0 = process.cpuUsage();
  let pg0 = childTicks();
  const t0 = performance.now();
  const chunk = Math.max(1, Math.min(1000, Math.floor(n / owners)));
  for (let done = 0, call = 0; done < n; done += chunk, call++) {
    const tasks = Array.from({ length: Math.min(chunk, n - done) }, (_, i) => ({ kind: 'noop', input: { i: done + i } }));
    await store.submitMany(tasks, owners > 1 ? { owner: `tenant-${call % owners}` } : {});
  }
  const report = (what: string, started: number) => {
    const js = process.cpuUsage(cpu0);
    const pgTicks = childTicks() - pg0;
    console.log(
      `${what} ${Math.round(n / ((performance.now() - started) / 1000))}/s; cpu per task: node ${((js.user + js.system) / n).toFixed(1)} µs, postgres ${((pgTicks * 10_000) / n).toFixed(1)} µs`,
    );
  };
  report('submit', t0);
  await pool.query('analyze tasklane.tasks');
  if (phase !== 'submit') {
    let completed = 0;
    cpu0 = process.cpuUsage();
    pg0 = childTicks();
    const t1 = performance.now();
    const workers = await startWorkers(url, 2, { noop: async () => ({ ok: true }) }, { concurrency: 500 }, (e) => void (e.type === 'completed' && completed++));
    while (completed < n) await sleep(5);
    report('drain', t1);
    await workers.stop();
  }
  await pool.end();
} finally {
  await db.close();
}
process.exit(0);

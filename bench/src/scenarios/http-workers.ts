import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { createPool, TaskStore } from '@tasklane/db';
import { startServerProcess, type ServerProcess } from '../child-process.ts';
import { API_MAIN, apiMainMissing, REPO_ROOT } from '../landed.ts';
import { round, sleep } from '../stats.ts';
import { startWorkers } from '../tasklane-worker.ts';
import { SkipScenario, type Scenario } from '../types.ts';

const PYTHON = '/usr/bin/python3';
const CHUNK = 1000;
/** Slots of each worker, SQL or HTTP: the same, so the figures compare the transports. */
const SLOTS = 100;

function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

async function submit(store: TaskStore, kind: string, n: number): Promise<void> {
  for (let done = 0; done < n; done += CHUNK) {
    await store.submitMany(Array.from({ length: Math.min(CHUNK, n - done) }, (_, i) => ({ kind, input: { i: done + i } })));
  }
}

interface Drained {
  completed: number;
  perSecond: number;
}

/** Completed tasks of `kind`, and the rate from `startedWall` to the last completion. */
async function drained(store: TaskStore, pool: ReturnType<typeof createPool>, kind: string, n: number, startedWall: number, timeoutMs: number): Promise<Drained> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ done: number; last: Date | null }>(
      "select count(*)::int as done, max(completed_at) as last from tasklane.tasks where kind = $1 and status = 'completed' and result is not null",
      [kind],
    );
    const { done, last } = rows[0]!;
    if (done >= n || Date.now() > deadline) {
      const seconds = ((last?.getTime() ?? Date.now()) - startedWall) / 1000;
      return { completed: done, perSecond: done / Math.max(seconds, 0.001) };
    }
    await sleep(50);
  }
}

/**
 * A minimal HTTP worker in Node: long-poll claims of up to SLOTS tasks, then each task's complete
 * in parallel, as any language's few lines of HTTP would do it.
 */
async function nodeHttpWorker(baseUrl: string, kind: string, stop: AbortSignal): Promise<number> {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${baseUrl}/api/v1/workers/bench-node${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<Record<string, any>>;
  };
  let requests = 0;
  while (!stop.aborted) {
    const { tasks } = (await post('/claim', { kinds: [kind], max: SLOTS, wait: 1 })) as { tasks: { task_id: string; attempt: number }[] };
    requests++;
    await Promise.all(tasks.map((t) => post(`/tasks/${t.task_id}/complete`, { attempt: t.attempt, result: { ok: true } })));
    requests += tasks.length;
  }
  return requests;
}

/**
 * N no-op tasks drained by one worker of SLOTS slots over each transport, in the same run: the
 * TypeScript SDK on Postgres, the minimal Node HTTP worker above, and the Python package's Worker
 * (clients/python), the last two through one API process.
 */
export const httpWorkers: Scenario = async (ctx, result) => {
  const missing = apiMainMissing();
  if (missing) throw new SkipScenario(missing);
  const n = envInt('BENCH_HTTP_N', ctx.quick ? 2_000 : 20_000);
  const timeoutMs = ctx.quick ? 60_000 : 300_000;
  Object.assign(result.params, { n, slots_per_worker: SLOTS, workers_per_transport: 1 });
  const url = await ctx.freshDatabase('http-workers');
  const pool = createPool({ connectionString: url, max: 4, applicationName: 'tasklane-bench' });
  const store = new TaskStore(pool);
  let api: ServerProcess | undefined;
  try {
    await submit(store, 'noop_sql', n);
    await pool.query('analyze tasklane.tasks');
    ctx.log(`http-workers: SQL worker draining ${n}`);
    let started = Date.now();
    const sql = await startWorkers(url, 1, { noop_sql: async () => ({ ok: true }) }, { concurrency: SLOTS });
    const sqlDrained = await drained(store, pool, 'noop_sql', n, started, timeoutMs);
    await sql.stop();
    result.figures.sql_worker_tasks_per_s = round(sqlDrained.perSecond, 0);
    result.figures.sql_worker_completed = sqlDrained.completed;

    api = await startServerProcess(API_MAIN, { DATABASE_URL: url, LOG_LEVEL: 'silent', AUTH: 'off', MAX_CONCURRENT_TASKS: '100000' }, '/api/v1/openapi.json');

    await submit(store, 'noop_node', n);
    ctx.log(`http-workers: Node HTTP worker draining ${n}`);
    const stopNode = new AbortController();
    started = Date.now();
    const nodeRun = nodeHttpWorker(api.baseUrl, 'noop_node', stopNode.signal);
    const nodeDrained = await drained(store, pool, 'noop_node', n, started, timeoutMs);
    stopNode.abort();
    const nodeRequests = await nodeRun;
    result.figures.node_http_worker_tasks_per_s = round(nodeDrained.perSecond, 0);
    result.figures.node_http_worker_completed = nodeDrained.completed;
    result.figures.node_http_requests_per_task = round(nodeRequests / Math.max(1, nodeDrained.completed), 2);

    const python = spawnSync(PYTHON, ['-c', 'import requests'], { encoding: 'utf8' });
    if (python.status !== 0) {
      result.notes.push(`Python HTTP worker skipped: ${PYTHON} with requests is not available`);
    } else {
      await submit(store, 'noop_py', n);
      ctx.log(`http-workers: Python HTTP worker draining ${n}`);
      started = Date.now();
      const child = spawn(PYTHON, [path.join(REPO_ROOT, 'bench', 'src', 'python', 'noop_worker.py')], {
        env: { PATH: process.env.PATH ?? '/usr/bin', PYTHONPATH: path.join(REPO_ROOT, 'clients', 'python'), TASKLANE_URL: api.baseUrl, SLOTS: String(SLOTS), KIND: 'noop_py' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const pyDrained = await drained(store, pool, 'noop_py', n, started, timeoutMs);
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      result.figures.python_http_worker_tasks_per_s = round(pyDrained.perSecond, 0);
      result.figures.python_http_worker_completed = pyDrained.completed;
      if (pyDrained.completed < n) result.notes.push(`Python worker stderr: ${stderr}`);
    }

    for (const transport of ['sql_worker', 'node_http_worker', 'python_http_worker']) {
      const completed = result.figures[`${transport}_completed`];
      if (completed !== undefined && completed < n) throw new Error(`${transport} completed only ${completed} of ${n} tasks within ${timeoutMs / 1000} s`);
    }
    const { rows } = await pool.query<{ n: number }>("select count(*)::int as n from tasklane.tasks where status <> 'completed'");
    if (rows[0]!.n !== 0) throw new Error(`${rows[0]!.n} tasks did not complete`);
    result.notes.push('One worker per transport with the same slots; the HTTP workers go through one API process on the same machine.');
  } finally {
    await api?.stop();
    await pool.end();
  }
};

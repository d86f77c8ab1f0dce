import { createPool, TaskStore, WorkerStore } from '@tasklane/db';
import { round, summarize } from '../stats.ts';
import { UNCAPPED } from '../tasklane-worker.ts';
import { ratio, type Scenario } from '../types.ts';

/** Distinct values of the `customer` metadata key in the history: each one tags rows / CUSTOMERS tasks. */
const CUSTOMERS = 1000;
const LIST_LIMIT = 20;

interface Latencies {
  claim: number[];
  read: number[];
  /** A page of `LIST_LIMIT` tasks filtered on one metadata pair, newest first, as the dashboard asks. */
  list: number[];
  /** Timed lists that returned a full page, every task carrying the pair asked for. */
  listed: number;
  /** Timed claims that returned the task just submitted, and timed reads that found their row. */
  claimed: number;
  found: number;
}

/**
 * One claim at a time (a pending task submitted first, not timed; claimed, timed; completed, not
 * timed) and reads by id of random existing tasks, timed.
 */
async function measure(store: TaskStore, worker: WorkerStore, rounds: number, readIds: () => string, customer: () => string): Promise<Latencies> {
  const out: Latencies = { claim: [], read: [], list: [], listed: 0, claimed: 0, found: 0 };
  for (let i = 0; i < rounds; i++) {
    const { task: submitted } = await store.submit({ kind: 'noop', input: { i } });
    const t0 = performance.now();
    const [task] = await worker.claim(1, ['noop'], UNCAPPED);
    out.claim.push(performance.now() - t0);
    if (task?.id === submitted.id) out.claimed++;
    if (task) await worker.complete([{ id: task.id, attempt: task.attempts, result: null }]);
    const id = readIds();
    const t1 = performance.now();
    const read = await store.get(id);
    out.read.push(performance.now() - t1);
    if (read?.id === id) out.found++;
    const wanted = customer();
    const t2 = performance.now();
    const page = await store.list({ metadata: { customer: wanted }, order: 'desc', limit: LIST_LIMIT });
    out.list.push(performance.now() - t2);
    if (page.tasks.length === LIST_LIMIT && page.tasks.every((t) => t.metadata['customer'] === wanted)) out.listed++;
  }
  return out;
}

interface Side {
  store: TaskStore;
  worker: WorkerStore;
  ids: () => string;
  customer: () => string;
  close(): Promise<void>;
}

async function openSide(url: string): Promise<Omit<Side, 'ids' | 'customer'>> {
  const pool = createPool({ connectionString: url, max: 2, applicationName: 'tasklane-bench' });
  const store = new TaskStore(pool);
  const worker = new WorkerStore(pool, { workerId: 'bench-history', leaseSeconds: 30 });
  return { store, worker, close: () => pool.end() };
}

const pick = (ids: readonly string[]) => () => ids[Math.floor(Math.random() * ids.length)]!;

/**
 * Loads `rows` finished tasks with generate_series, no notifications (replica role skips triggers).
 * Their ids have the shape `isTaskId` accepts (kind prefix, a version digit, 25 base32 characters:
 * md5's hex digits are all in the alphabet), so a read by one of them really goes to the database.
 */
async function loadHistory(url: string, rows: number): Promise<string[]> {
  const pool = createPool({ connectionString: url, max: 1, applicationName: 'tasklane-bench' });
  try {
    const client = await pool.connect();
    try {
      await client.query('set session_replication_role = replica');
      await client.query(
        `insert into tasklane.tasks (id, kind, service, owner, status, progress, message, input, result, error, attempts,
                                     version, created_at, updated_at, started_at, completed_at, finished_at, run_at, metadata)
         select 'noop_0' || left(md5(g::text) || md5('h' || g), 25), 'noop', 'bench', 'default', s.status,
                case when s.status = 'completed' then 100 else 40 end, 'done', jsonb_build_object('i', g),
                case when s.status = 'completed' then '{"ok":true}'::jsonb end,
                case when s.status = 'failed' then '{"type":"Boom","message":"x","retryable":false}'::jsonb end,
                1, 4, t, t + interval '2 seconds', t, case when s.status = 'completed' then t + interval '2 seconds' end,
                t + interval '2 seconds', t, jsonb_build_object('customer', 'c' || (g % ${CUSTOMERS}), 'run', 'r' || (g % 7))
         from generate_series(1, $1::int) g,
              lateral (select now() - make_interval(secs => 86400 * (g::float8 / $1)) as t) ts,
              lateral (select case when g % 100 < 90 then 'completed' when g % 100 < 97 then 'failed' else 'cancelled' end as status) s`,
        [rows],
      );
      await client.query('set session_replication_role = origin');
    } finally {
      client.release();
    }
    await pool.query('vacuum analyze tasklane.tasks');
    const { rows: sample } = await pool.query<{ id: string }>(`select id from tasklane.tasks tablesample system (1) limit 5000`);
    return sample.map((r) => r.id);
  } finally {
    await pool.end();
  }
}

/**
 * The same claims and reads against two databases on the same server, one with history and one
 * without, interleaved round by round so the machine's noise hits both alike.
 */
export const history: Scenario = async (ctx, result) => {
  const rows = Number(process.env.BENCH_HISTORY_ROWS) || (ctx.quick ? 100_000 : 1_000_000);
  const rounds = ctx.quick ? 100 : 1000;
  const warmup = ctx.quick ? 20 : 50;
  Object.assign(result.params, { history_rows: rows, rounds, interleaved: true, metadata_customers: CUSTOMERS, list_limit: LIST_LIMIT });
  const emptyUrl = await ctx.freshDatabase('history_empty');
  const fullUrl = await ctx.freshDatabase('history_full');
  ctx.log(`history: inserting ${rows} finished tasks`);
  const t0 = performance.now();
  const historyIds = await loadHistory(fullUrl, rows);
  result.figures.history_load_s = round((performance.now() - t0) / 1000, 1);

  const empty = await openSide(emptyUrl);
  const full = await openSide(fullUrl);
  try {
    // The empty side's only tasks: one page of one customer's, so its lists return a full page too.
    const seed = await empty.store.submitMany(Array.from({ length: LIST_LIMIT }, (_, i) => ({ kind: 'noop', input: { i }, metadata: { customer: 'c1' } })));
    for (;;) if ((await empty.worker.claim(100, ['noop'], UNCAPPED)).length === 0) break;
    const sides: Side[] = [
      { ...empty, ids: pick(seed.map((s) => s.task.id)), customer: () => 'c1' },
      { ...full, ids: pick(historyIds), customer: () => `c${Math.floor(Math.random() * CUSTOMERS)}` },
    ];
    const totals: Latencies[] = [
      { claim: [], read: [], list: [], listed: 0, claimed: 0, found: 0 },
      { claim: [], read: [], list: [], listed: 0, claimed: 0, found: 0 },
    ];
    for (let r = 0; r < rounds + warmup; r++) {
      for (let s = 0; s < 2; s++) {
        const side = sides[s]!;
        const one = await measure(side.store, side.worker, 1, side.ids, side.customer);
        if (r < warmup) continue;
        totals[s]!.claim.push(...one.claim);
        totals[s]!.read.push(...one.read);
        totals[s]!.list.push(...one.list);
        totals[s]!.listed += one.listed;
        totals[s]!.claimed += one.claimed;
        totals[s]!.found += one.found;
      }
    }
    // A timed operation whose result was not checked is no figure: every timed claim must have
    // returned the task just submitted and every timed read must have found its row.
    for (const [s, label] of [[0, 'empty'], [1, 'history']] as const) {
      const t = totals[s]!;
      if (t.claimed !== rounds || t.found !== rounds || t.listed !== rounds) {
        throw new Error(
          `history (${label} table): ${t.claimed} of ${rounds} timed claims returned their task, ${t.found} of ${rounds} timed reads found their row, ` +
            `${t.listed} of ${rounds} metadata lists returned a full page of the customer asked for`,
        );
      }
    }
    const e = { claim: summarize(totals[0]!.claim), read: summarize(totals[0]!.read), list: summarize(totals[0]!.list) };
    const f = { claim: summarize(totals[1]!.claim), read: summarize(totals[1]!.read), list: summarize(totals[1]!.list) };
    result.figures = {
      ...result.figures,
      claim_p50_ms: round(f.claim.p50, 3),
      claim_p99_ms: round(f.claim.p99, 3),
      read_p50_ms: round(f.read.p50, 3),
      read_p99_ms: round(f.read.p99, 3),
      metadata_list_p50_ms: round(f.list.p50, 3),
      metadata_list_p99_ms: round(f.list.p99, 3),
      timed_lists_checked: totals[1]!.listed,
      timed_claims_checked: totals[1]!.claimed,
      timed_reads_found: totals[1]!.found,
    };
    result.peers['same, empty table'] = {
      claim_p50_ms: round(e.claim.p50, 3),
      claim_p99_ms: round(e.claim.p99, 3),
      read_p50_ms: round(e.read.p50, 3),
      read_p99_ms: round(e.read.p99, 3),
      metadata_list_p50_ms: round(e.list.p50, 3),
      metadata_list_p99_ms: round(e.list.p99, 3),
    };
    result.ratios.push(
      ratio('claim p50, history vs empty', round(f.claim.p50 / e.claim.p50), '<=', 1.2),
      ratio('read p50, history vs empty', round(f.read.p50 / e.read.p50), '<=', 1.2),
      // Each customer tags a thousandth of the history: the index finds its rows, a scan would read them all.
      ratio('metadata-filtered page p50, history vs empty', round(f.list.p50 / e.list.p50), '<=', 2),
    );
  } finally {
    await empty.close();
    await full.close();
  }
};

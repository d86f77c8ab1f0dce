import type pg from 'pg';
import { createPool, TaskStore, WorkerStore } from '@tasklane/db';
import type { ConcurrencyCaps } from '@tasklane/core';
import { round, summarize } from '../stats.ts';
import { ratio, type Scenario } from '../types.ts';

/** video is capped at 2 and kept full; image is the other kind whose claims are timed. */
const CAPS: ConcurrencyCaps = { total: 1_000_000, perKind: { video: 2 } };
/** The second backlog: one owner at its own cap, video uncapped. */
const OWNER_CAPS: ConcurrencyCaps = { total: 1_000_000, perKind: {}, perOwner: 2 };

/**
 * Loads `rows` pending video tasks of owner `whale` with generate_series, ranked as submits rank
 * them (one owner: rank = order); a tenth of them scheduled an hour ahead (unranked, as a
 * scheduled start or a retry's backoff is). No notifications (replica role skips triggers).
 */
async function loadBacklog(pool: pg.Pool, rows: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('set session_replication_role = replica');
    await client.query(
      `insert into tasklane.tasks (id, kind, owner, status, message, input, run_at, fair_rank)
       select 'vid_backlog' || g, 'video', 'whale', 'pending', 'Task queued', '{}'::jsonb,
              case when g % 10 = 0 then now() + interval '1 hour' else now() - interval '1 minute' end,
              case when g % 10 = 0 then null else g end
       from generate_series(1, $1::int) g`,
      [rows],
    );
    await client.query('set session_replication_role = origin');
    await client.query('analyze tasklane.tasks');
  } finally {
    client.release();
  }
}

interface Timed {
  /** Claim latencies, ms. */
  ms: number[];
  /** Claims that returned the task submitted for them. */
  hits: number;
}

interface Side {
  store: TaskStore;
  worker: WorkerStore;
  pool: pg.Pool;
}

/**
 * One claim: an image task of another owner is submitted (not timed), claimed for `kinds`
 * (timed), then completed (not timed). A claim that returns nothing, or a whale task, is no hit.
 */
async function timeClaim(side: Side, kinds: string[], caps: ConcurrencyCaps, i: number, out: Timed): Promise<void> {
  const { task: submitted } = await side.store.submit({ kind: 'image', input: { i } }, { owner: `small-${i % 7}` });
  const t0 = performance.now();
  const claimed = await side.worker.claim(1, kinds, caps);
  out.ms.push(performance.now() - t0);
  if (claimed.length === 1 && claimed[0]!.id === submitted.id) out.hits++;
  await side.worker.complete(claimed.map((t) => ({ id: t.id, attempt: t.attempts, result: null })));
  if (claimed.length === 0) await side.store.cancel(submitted.id);
}

/** Fills the cap under test with two long-running whale video tasks. */
async function fillCap(store: TaskStore, worker: WorkerStore, caps: ConcurrencyCaps): Promise<void> {
  await store.submitMany([{ kind: 'video' }, { kind: 'video' }], { owner: 'whale' });
  const held = await worker.claim(2, ['video'], caps);
  if (held.length !== 2) throw new Error(`backlog: expected to hold 2 video tasks, got ${held.length}`);
}

/**
 * Claim latency for another kind (image) beside a backlog, against the same claims on a table
 * without it (two databases, rounds interleaved): a capped kind's backlog (video, cap full) and, separately, one owner's backlog (that
 * owner at OWNER_MAX_CONCURRENT). Claims ask for [video, image] and for [image] alone.
 */
export const backlog: Scenario = async (ctx, result) => {
  const rows = Number(process.env.BENCH_N) > 0 ? Number(process.env.BENCH_N) : ctx.quick ? 20_000 : 1_000_000;
  const rounds = ctx.quick ? 50 : 500;
  Object.assign(result.params, { backlog_rows: rows, claims_per_case: rounds, scheduled_share: 0.1 });
  const cases: [string, string[]][] = [['video_image', ['video', 'image']], ['image', ['image']]];

  for (const [variant, caps] of [['kind', CAPS], ['owner', OWNER_CAPS]] as const) {
    const sides: Side[] = [];
    try {
      for (const label of ['empty', 'loaded']) {
        const url = await ctx.freshDatabase(`backlog-${variant}-${label}`);
        const pool = createPool({ connectionString: url, max: 2, applicationName: 'tasklane-bench' });
        const side = { pool, store: new TaskStore(pool), worker: new WorkerStore(pool, { workerId: `bench-backlog-${label}`, leaseSeconds: 600 }) };
        sides.push(side);
        await fillCap(side.store, side.worker, caps);
      }
      const [empty, loaded] = sides as [Side, Side];
      ctx.log(`backlog: loading ${rows} pending video tasks of one owner (${variant} cap full)`);
      await loadBacklog(loaded.pool, rows);
      for (const [name, kinds] of cases) {
        const before: Timed = { ms: [], hits: 0 };
        const after: Timed = { ms: [], hits: 0 };
        // Interleaved, so that the machine's drift hits both tables alike.
        for (let i = 0; i < rounds; i++) {
          await timeClaim(empty, kinds, caps, i, before);
          await timeClaim(loaded, kinds, caps, i, after);
        }
        const b = summarize(before.ms);
        const a = summarize(after.ms);
        const prefix = `${variant}_${name}`;
        Object.assign(result.figures, {
          [`${prefix}_empty_p50_ms`]: round(b.p50, 3),
          [`${prefix}_backlog_p50_ms`]: round(a.p50, 3),
          [`${prefix}_backlog_p99_ms`]: round(a.p99, 3),
          [`${prefix}_hits`]: before.hits + after.hits,
        });
        result.ratios.push(ratio(`${variant} backlog: claim [${kinds.join(', ')}] p50 vs empty`, round(a.p50 / b.p50), '<=', 1.2));
        // A claim that came back empty would be fast and prove nothing.
        if (before.hits + after.hits !== 2 * rounds) {
          throw new Error(`backlog ${prefix}: ${before.hits + after.hits} of ${2 * rounds} claims returned the submitted task`);
        }
      }
      for (const side of sides) {
        const { rows: counts } = await side.pool.query<{ n: number }>(
          `select count(*)::int as n from tasklane.tasks where kind = 'video' and status = 'processing'`,
        );
        if (counts[0]!.n !== 2) throw new Error(`backlog ${variant}: ${counts[0]!.n} video tasks running, expected the 2 holding the cap`);
      }
    } finally {
      await Promise.all(sides.map((side) => side.pool.end()));
    }
  }
  result.notes.push('Measured on whatever machine ran it; a loaded machine widens p99 more than p50.');
};

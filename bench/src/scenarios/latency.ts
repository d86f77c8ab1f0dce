import { createPool, TaskStore } from '@tasklane/db';
import { graphileLatency, installGraphile } from '../peers/graphile-worker.ts';
import { median, round, sleep, summarize } from '../stats.ts';
import { startWorkers } from '../tasklane-worker.ts';
import { ratio, type Scenario } from '../types.ts';

/**
 * Sequential submits at idle: submit one task, time until its handler starts, wait for it to
 * complete, then the next. Submit and handler run in this process, so one clock times both.
 */
export const latency: Scenario = async (ctx, result) => {
  const count = ctx.quick ? 100 : 1000;
  // Interleaved rounds, so that a slow stretch of the host lands on both systems alike; the
  // figures are medians of the rounds' own percentiles.
  const rounds = ctx.quick ? 1 : 3;
  const perRound = Math.ceil(count / rounds);
  Object.assign(result.params, { submits: perRound * rounds, rounds });
  const url = await ctx.freshDatabase('latency');
  await installGraphile(url);
  const pool = createPool({ connectionString: url, max: 2, applicationName: 'tasklane-bench' });
  const store = new TaskStore(pool);
  let onStart: ((at: number) => void) | undefined;
  let onDone: (() => void) | undefined;
  const workers = await startWorkers(url, 1, {
    noop: async () => {
      onStart?.(performance.now());
      return null;
    },
  }, { concurrency: 10 });
  workers.workers[0]!.onTaskEvent((e) => void (e.type === 'completed' && onDone?.()));
  const tasklaneRound = async (): Promise<number[]> => {
    const samples: number[] = [];
    for (let i = 0; i < perRound; i++) {
      const started = new Promise<number>((resolve) => (onStart = resolve));
      const finished = new Promise<void>((resolve) => (onDone = resolve));
      const t0 = performance.now();
      await store.submit({ kind: 'noop', input: { i } });
      const t1 = await Promise.race([started, sleep(5000).then(() => Number.NaN)]);
      if (Number.isFinite(t1)) samples.push(t1 - t0);
      await Promise.race([finished, sleep(5000)]);
    }
    return samples;
  };
  const ours: number[][] = [];
  const theirs: number[][] = [];
  try {
    await sleep(300);
    for (let r = 0; r < rounds; r++) {
      ctx.log(`latency: round ${r + 1}/${rounds}`);
      // Each round the other system goes first.
      if (r % 2 === 0) {
        ours.push(await tasklaneRound());
        theirs.push(await graphileLatency(url, perRound));
      } else {
        theirs.push(await graphileLatency(url, perRound));
        ours.push(await tasklaneRound());
      }
    }
  } finally {
    await workers.stop();
    await pool.end();
  }
  const figures = (perRoundSamples: number[][]) => {
    const all = summarize(perRoundSamples.flat());
    const each = perRoundSamples.map((samples) => summarize(samples));
    return {
      p50_ms: round(median(each.map((e) => e.p50))),
      p99_ms: round(median(each.map((e) => e.p99))),
      p99_ms_min: round(Math.min(...each.map((e) => e.p99))),
      p99_ms_max: round(Math.max(...each.map((e) => e.p99))),
      max_ms: round(all.max),
      mean_ms: round(all.mean),
      samples: perRoundSamples.flat().length,
    };
  };
  const tl = figures(ours);
  const gw = figures(theirs);
  result.figures = tl;
  result.peers['graphile-worker'] = gw;
  result.ratios.push(
    ratio('p50 ms (absolute target)', tl.p50_ms, '<=', 3),
    ratio('p99 ms (absolute target)', tl.p99_ms, '<=', 10),
    ratio('p50 vs graphile-worker p50', round(tl.p50_ms / gw.p50_ms), '<=', 1),
    ratio('p99 vs graphile-worker p99', round(tl.p99_ms / gw.p99_ms), '<=', 1),
  );
};

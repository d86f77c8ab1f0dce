import { createPool, TaskStore } from '@tasklane/db';
import { graphileLatency, installGraphile } from '../peers/graphile-worker.ts';
import { round, sleep, summarize } from '../stats.ts';
import { startWorkers } from '../tasklane-worker.ts';
import { ratio, type Scenario } from '../types.ts';

/**
 * Sequential submits at idle: submit one task, time until its handler starts, wait for it to
 * complete, then the next. Submit and handler run in this process, so one clock times both.
 */
export const latency: Scenario = async (ctx, result) => {
  const count = ctx.quick ? 100 : 1000;
  result.params.submits = count;
  const url = await ctx.freshDatabase('latency');
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
  const samples: number[] = [];
  try {
    await sleep(300);
    for (let i = 0; i < count; i++) {
      const started = new Promise<number>((resolve) => (onStart = resolve));
      const finished = new Promise<void>((resolve) => (onDone = resolve));
      const t0 = performance.now();
      await store.submit({ kind: 'noop', input: { i } });
      const t1 = await Promise.race([started, sleep(5000).then(() => Number.NaN)]);
      if (Number.isFinite(t1)) samples.push(t1 - t0);
      await Promise.race([finished, sleep(5000)]);
    }
  } finally {
    await workers.stop();
    await pool.end();
  }
  const tl = summarize(samples);
  result.figures = { p50_ms: round(tl.p50), p99_ms: round(tl.p99), max_ms: round(tl.max), mean_ms: round(tl.mean), samples: samples.length };

  ctx.log('latency: graphile-worker');
  await installGraphile(url);
  const gwSamples = await graphileLatency(url, count);
  const gw = summarize(gwSamples);
  result.peers['graphile-worker'] = { p50_ms: round(gw.p50), p99_ms: round(gw.p99), max_ms: round(gw.max), mean_ms: round(gw.mean), samples: gwSamples.length };
  result.ratios.push(
    ratio('p50 ms (absolute target)', round(tl.p50), '<=', 3),
    ratio('p99 ms (absolute target)', round(tl.p99), '<=', 10),
    ratio('p50 vs graphile-worker p50', round(tl.p50 / gw.p50), '<=', 1),
    ratio('p99 vs graphile-worker p99', round(tl.p99 / gw.p99), '<=', 1),
  );
};

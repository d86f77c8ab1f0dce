import { afterAll, expect, it } from 'vitest';
import { createPool } from '@tasklane/db';
import { waitFor, useTestEnv } from './helpers.ts';

const env = useTestEnv();
const pools: ReturnType<typeof createPool>[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
});

it('runs each of 2,000 tasks exactly once across 8 racing workers', async () => {
  const TASKS = 2000;
  const invocations = new Map<string, number>();
  const byWorker = new Map<string, number>();
  await env.store.submitMany(Array.from({ length: TASKS }, (_, i) => ({ kind: 'noop', input: { i } })));

  await Promise.all(
    Array.from({ length: 8 }, (_, w) => {
      const pool = createPool({ connectionString: env.url, max: 3 });
      pools.push(pool);
      return env.worker({
        pool,
        connectionString: env.url,
        workerId: `racer-${w}`,
        concurrency: 25,
        handlers: {
          noop: async (task, ctx) => {
            invocations.set(task.id, (invocations.get(task.id) ?? 0) + 1);
            byWorker.set(ctx.workerId, (byWorker.get(ctx.workerId) ?? 0) + 1);
            return { ok: true };
          },
        },
      });
    }),
  );

  await waitFor(async () => {
    const { rows } = await env.pool.query<{ n: number }>(`select count(*)::int as n from tasklane.tasks where status = 'completed'`);
    return rows[0]!.n === TASKS;
  }, { what: 'every task to complete', timeoutMs: 50_000 });

  const { rows } = await env.pool.query<{ status: string; attempts: number; n: number }>(
    'select status, attempts, count(*)::int as n from tasklane.tasks group by status, attempts',
  );
  expect(rows).toEqual([{ status: 'completed', attempts: 1, n: TASKS }]);
  expect(invocations.size).toBe(TASKS);
  expect([...invocations.values()].filter((n) => n !== 1)).toEqual([]);
  // The race was real: more than one worker did some of the work.
  expect(byWorker.size).toBeGreaterThan(1);
});

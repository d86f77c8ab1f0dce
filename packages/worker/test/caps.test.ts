import { afterAll, expect, it } from 'vitest';
import { createPool } from '@tasklane/db';
import { useTestEnv, waitFor } from './helpers.ts';

const env = useTestEnv();
const pools: ReturnType<typeof createPool>[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
});

it('never runs more than the cluster-wide caps, however many workers race', async () => {
  const caps = { total: 5, perKind: { video: 2, image: 3 } };
  const running: Record<string, number> = { video: 0, image: 0, total: 0 };
  const peak: Record<string, number> = { video: 0, image: 0, total: 0 };
  const dbPeak: Record<string, number> = { video: 0, image: 0, total: 0 };
  const handler = async (task: { kind: string }) => {
    running[task.kind]!++;
    running.total!++;
    peak[task.kind] = Math.max(peak[task.kind]!, running[task.kind]!);
    peak.total = Math.max(peak.total!, running.total!);
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
    running[task.kind]!--;
    running.total!--;
    return null;
  };
  await env.store.submitMany([
    ...Array.from({ length: 60 }, () => ({ kind: 'video' })),
    ...Array.from({ length: 60 }, () => ({ kind: 'image' })),
  ]);

  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const { rows } = await env.pool.query<{ kind: string; n: number }>(
        `select kind, count(*)::int as n from tasklane.tasks where status = 'processing' group by kind`,
      );
      let total = 0;
      for (const { kind, n } of rows) {
        dbPeak[kind] = Math.max(dbPeak[kind] ?? 0, n);
        total += n;
      }
      dbPeak.total = Math.max(dbPeak.total!, total);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();

  await Promise.all(
    Array.from({ length: 6 }, (_, w) => {
      const pool = createPool({ connectionString: env.url, max: 3 });
      pools.push(pool);
      // Each worker alone could take far more than the caps allow.
      return env.worker({ pool, connectionString: env.url, workerId: `capped-${w}`, concurrency: 10, caps, handlers: { video: handler, image: handler } });
    }),
  );

  await waitFor(async () => {
    const { rows } = await env.pool.query<{ n: number }>(`select count(*)::int as n from tasklane.tasks where status = 'completed'`);
    return rows[0]!.n === 120;
  }, { what: 'every task to complete', timeoutMs: 50_000 });
  sampling = false;
  await sampler;

  expect(peak.video).toBeLessThanOrEqual(2);
  expect(peak.image).toBeLessThanOrEqual(3);
  expect(peak.total).toBeLessThanOrEqual(5);
  expect(dbPeak.video).toBeLessThanOrEqual(2);
  expect(dbPeak.image).toBeLessThanOrEqual(3);
  expect(dbPeak.total).toBeLessThanOrEqual(5);
  // The caps were reached, not merely respected by running one at a time.
  expect(peak.video).toBe(2);
  expect(peak.total).toBeGreaterThanOrEqual(4);
});

it('keeps tasks pending while a cap is full and starts one as soon as a slot frees', async () => {
  const caps = { total: 10, perKind: { render: 1 } };
  const releases: (() => void)[] = [];
  const started: string[] = [];
  await env.worker({
    caps,
    handlers: {
      render: (task) =>
        new Promise((resolve) => {
          started.push(task.id);
          releases.push(() => resolve({ done: task.id }));
        }),
    },
  });
  const [a, b] = await env.store.submitMany([{ kind: 'render', priority: 1 }, { kind: 'render' }]);
  await waitFor(() => started.length === 1, { what: 'the first task to start' });
  expect(started).toEqual([a!.task.id]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect((await env.store.get(b!.task.id))?.status).toBe('pending');

  releases[0]!();
  await waitFor(() => started.length === 2, { what: 'the second task to start' });
  releases[1]!();
  await waitFor(async () => (await env.store.get(b!.task.id))?.status === 'completed', { what: 'the second task to complete' });
  expect((await env.store.get(a!.task.id))?.result).toEqual({ done: a!.task.id });
});

import { expect, it } from 'vitest';
import { runMaintenance, WorkerStore } from '@tasklane/db';
import { taskIn, useTestEnv } from './helpers.ts';

const env = useTestEnv();

it('deletes only terminal tasks older than the retention setting', async () => {
  const holder = new WorkerStore(env.pool, { workerId: 'retention', leaseSeconds: 30 });
  const make = async (status: Parameters<typeof taskIn>[1]) => (await taskIn(env, status, holder)).id;
  const old = { completed: await make('completed'), failed: await make('failed'), cancelled: await make('cancelled') };
  const recent = { completed: await make('completed'), failed: await make('failed'), cancelled: await make('cancelled') };
  const live = { pending: await make('pending'), processing: await make('processing') };

  await env.pool.query(
    `update tasklane.tasks set finished_at = now() - interval '3 hours', created_at = now() - interval '4 hours' where id = any($1::text[])`,
    [Object.values(old)],
  );
  // Old but not finished: never deleted, however old.
  await env.pool.query(`update tasklane.tasks set created_at = now() - interval '30 days' where id = any($1::text[])`, [Object.values(live)]);

  const outcome = await runMaintenance(env.pool, { retentionHours: 2 });
  expect(outcome).toMatchObject({ elected: true, deleted: 3 });
  for (const id of Object.values(old)) expect(await env.store.get(id)).toBeUndefined();
  const kept = await env.store.getMany([...Object.values(recent), ...Object.values(live)]);
  expect(kept.map((t) => t.status).sort()).toEqual(['cancelled', 'completed', 'failed', 'pending', 'processing']);
  expect((await runMaintenance(env.pool, { retentionHours: 2 })).deleted).toBe(0);
});

it('lets only one process do maintenance at a time', async () => {
  const rounds = await Promise.all(Array.from({ length: 6 }, () => runMaintenance(env.pool, { retentionHours: 24 })));
  expect(rounds.filter((r) => r.elected).length).toBeGreaterThanOrEqual(1);
  for (const r of rounds.filter((r) => !r.elected)) expect(r).toEqual({ elected: false, requeued: 0, failed: 0, deleted: 0 });
});

import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createPool, TaskStore, WorkerStore } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let database: TestDatabase;
let pool: ReturnType<typeof createPool>;
let store: TaskStore;
const extraPools: ReturnType<typeof createPool>[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url });
  store = new TaskStore(pool);
});
afterAll(async () => {
  await Promise.all(extraPools.map((p) => p.end()));
  await pool.end();
  await database.drop();
});
beforeEach(async () => {
  await pool.query('delete from tasklane.tasks');
});

async function processing(): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ kind: string; n: number }>(
    `select kind, count(*)::int as n from tasklane.tasks where status = 'processing' group by kind`,
  );
  const counts: Record<string, number> = { total: 0 };
  for (const { kind, n } of rows) {
    counts[kind] = n;
    counts.total! += n;
  }
  return counts;
}

it('returns every submitted task exactly as it reads from the table', async () => {
  const results = await store.submitMany([
    { kind: 'video', input: { prompt: 'a cat', size: [1, 2.5], nested: { b: 1, a: null } } },
    { kind: 'image', service: 'imagen', priority: -4, maxAttempts: 7, runAt: new Date(Date.now() + 60_000), idempotencyKey: 'shape-1' },
    { kind: 'video' },
  ]);
  for (const { task } of results) expect(await store.get(task.id)).toEqual(task);
});

it('returns a claimed task exactly as it now reads from the table', async () => {
  const { task: submitted } = await store.submit({ kind: 'video', input: { prompt: 'a cat' }, priority: 3, idempotencyKey: 'k1' });
  const worker = new WorkerStore(pool, { workerId: 'w-shape', leaseSeconds: 30 });
  const [claimed] = await worker.claim(1, ['video'], { total: 1000, perKind: {} });
  expect(claimed?.id).toBe(submitted.id);
  expect(claimed).toEqual(await store.get(submitted.id));
  expect(claimed).toMatchObject({ status: 'processing', attempts: 1, version: 2, leaseOwner: 'w-shape', result: null });
});

it('bumps the version once per change, whether the statement or the trigger does it', async () => {
  const { task } = await store.submit({ kind: 'video' });
  const worker = new WorkerStore(pool, { workerId: 'w-version', leaseSeconds: 30 });
  const [claimed] = await worker.claim(1, ['video'], { total: 1000, perKind: {} });
  expect(claimed?.version).toBe(2);
  await worker.progress({ id: task.id, attempt: 1 }, 50, 'half');
  expect((await store.get(task.id))?.version).toBe(3);
  await worker.complete([{ id: task.id, attempt: 1, result: { ok: true } }]);
  const done = await store.get(task.id);
  expect(done).toMatchObject({ status: 'completed', version: 4, result: { ok: true } });
  expect(done!.updatedAt.getTime()).toBeGreaterThanOrEqual(claimed!.updatedAt.getTime());
  // A write that changes nothing is not a change.
  await pool.query(`update tasklane.tasks set status = status where id = $1`, [task.id]);
  expect((await store.get(task.id))?.version).toBe(4);
});

it('claims within the caps when they are close, falling back from the unlocked claim', async () => {
  await store.submitMany(Array.from({ length: 120 }, () => ({ kind: 'image' })));
  const worker = new WorkerStore(pool, { workerId: 'w-close', leaseSeconds: 30 });
  // Far from the cap: the claim may go without the cap lock.
  expect(await worker.claim(5, ['image'], { total: 100, perKind: {} })).toHaveLength(5);
  expect(await worker.claim(60, ['image'], { total: 100, perKind: {} })).toHaveLength(60);
  // 65 running: 8 claims of 5 on top could pass 100, so this one counts under the lock.
  expect(await worker.claim(5, ['image'], { total: 100, perKind: {} })).toHaveLength(5);
  expect(await worker.claim(50, ['image'], { total: 100, perKind: {} })).toHaveLength(30);
  expect(await worker.claim(5, ['image'], { total: 100, perKind: {} })).toHaveLength(0);
  // A per-kind cap of another kind does not stop this one; its own does.
  expect(await worker.claim(5, ['image'], { total: 1000, perKind: { video: 1 } })).toHaveLength(5);
  expect(await worker.claim(5, ['image'], { total: 1000, perKind: { image: 100 } })).toHaveLength(0);
  expect((await processing()).total).toBe(105);
});

it('never passes the total or per-kind caps while claimers race on both sides of the unlocked limit', async () => {
  await store.submitMany([
    ...Array.from({ length: 300 }, () => ({ kind: 'image' })),
    ...Array.from({ length: 300 }, () => ({ kind: 'audio' })),
  ]);
  // With batches of 5, 8 unlocked claims need 40 of room: below 20 running they skip the lock,
  // above it they take turns; the caps sit where both happen.
  const caps = { total: 60, perKind: { image: 45 } };
  const peak: Record<string, number> = { total: 0, image: 0 };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const counts = await processing();
      peak.total = Math.max(peak.total!, counts.total!);
      peak.image = Math.max(peak.image!, counts.image ?? 0);
    }
  })();
  const seen = new Map<string, number>();
  const claimers = Array.from({ length: 8 }, async (_, w) => {
    const own = createPool({ connectionString: database.url, max: 2 });
    extraPools.push(own);
    const worker = new WorkerStore(own, { workerId: `w-race-${w}`, leaseSeconds: 30 });
    let idle = 0;
    while (idle < 20) {
      const tasks = await worker.claim(5, ['image', 'audio'], caps);
      if (tasks.length === 0) {
        idle++;
        const { rows } = await own.query<{ n: number }>(`select count(*)::int as n from tasklane.tasks where status <> 'completed'`);
        if (rows[0]!.n === 0) return;
        continue;
      }
      for (const task of tasks) seen.set(task.id, (seen.get(task.id) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
      const done = await worker.complete(tasks.map((t) => ({ id: t.id, attempt: t.attempts, result: null })));
      expect(done.size).toBe(tasks.length);
    }
  });
  await Promise.all(claimers);
  sampling = false;
  await sampler;
  const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from tasklane.tasks where status = 'completed' and attempts = 1`);
  expect(rows[0]!.n).toBe(600);
  expect(seen.size).toBe(600);
  expect([...seen.values()].every((n) => n === 1)).toBe(true);
  expect(peak.total).toBeLessThanOrEqual(60);
  expect(peak.image).toBeLessThanOrEqual(45);
});

it('leaves no tasklane.claim beside claim_batch once migrated', async () => {
  const { rows } = await pool.query<{ old: string | null; batch: string | null }>(
    `select to_regproc('tasklane.claim')::text as old, to_regproc('tasklane.claim_batch')::text as batch`,
  );
  expect(rows[0]).toEqual({ old: null, batch: 'tasklane.claim_batch' });
});

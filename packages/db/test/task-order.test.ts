import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, runMaintenance, TaskOperations, TaskStore, WorkerStore } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

/**
 * tasklane.task_order (0016) holds the list order off the task row, kept by triggers: these are
 * the writers it must follow, each checked against the table itself and against what a list shows.
 */
let database: TestDatabase;
let pool: ReturnType<typeof createPool>;
let store: TaskStore;
let operations: TaskOperations;
let worker: WorkerStore;
let kindSeq = 0;
const caps = { total: 100_000, perKind: {} };
const freshKind = () => `ord${kindSeq++}`;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url });
  store = new TaskStore(pool);
  operations = new TaskOperations(store, pool);
  worker = new WorkerStore(pool, { workerId: 'order-test', leaseSeconds: 60 });
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

/** The task_order entries of the given ids, as `id owner created_at(ms)`. */
async function entries(ids: string[]): Promise<string[]> {
  const { rows } = await pool.query<{ entry: string }>(
    `select o.id || ' ' || o.owner || ' ' || (extract(epoch from o.created_at) * 1000)::bigint as entry
     from tasklane.task_order o where o.id = any($1::text[]) order by o.created_at, o.id`,
    [ids],
  );
  return rows.map((r) => r.entry);
}

const listed = async (kind: string, owner?: string) => (await store.list({ kind: [kind], owner })).tasks.map((t) => t.id);

describe('the list order table', () => {
  it('gets an entry, with owner and creation time, from a submit, a bulk submit and a re-run', async () => {
    const kind = freshKind();
    const { task: one } = await store.submit({ kind }, { owner: 'alice' });
    const many = (await store.submitMany([{ kind }, { kind }], { owner: 'alice' })).map((r) => r.task);
    const [claimed] = await worker.claim(1, [kind], caps);
    await worker.fail({ id: claimed!.id, attempt: 1, error: { type: 'Boom', message: 'no', retryable: false } });
    const rerun = await operations.retry(claimed!.id, { owner: 'alice' });
    // In list order: creation time, then id (tasks made in the same millisecond go by id, not by
    // the order they were submitted in).
    const all = [one, ...many, rerun].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
    expect(await entries(all.map((t) => t.id))).toEqual(all.map((t) => `${t.id} alice ${t.createdAt.getTime()}`));
    expect(await listed(kind, 'alice')).toEqual(all.map((t) => t.id));
    expect(await listed(kind, 'bob')).toEqual([]);
  });

  it('loses the entry when retention deletes the task, and the list no longer shows it', async () => {
    const kind = freshKind();
    const [old, kept] = (await store.submitMany([{ kind }, { kind }])).map((r) => r.task);
    await store.cancel(old!.id);
    await pool.query(`update tasklane.tasks set finished_at = now() - interval '2 days' where id = $1`, [old!.id]);
    const result = await runMaintenance(pool, { retentionHours: 24 });
    expect(result.deleted).toBeGreaterThanOrEqual(1);
    expect(await entries([old!.id, kept!.id])).toEqual([`${kept!.id} default ${kept!.createdAt.getTime()}`]);
    expect(await listed(kind)).toEqual([kept!.id]);
  });

  it('is emptied by a truncate of the tasks, as an operator might clear a test system', async () => {
    const scratch = await createTestDatabase();
    const scratchPool = createPool({ connectionString: scratch.url });
    try {
      await new TaskStore(scratchPool).submitMany([{ kind: 'a' }, { kind: 'b' }]);
      await scratchPool.query('truncate tasklane.tasks cascade');
      const { rows } = await scratchPool.query<{ n: number }>('select count(*)::int as n from tasklane.task_order');
      expect(rows[0]!.n).toBe(0);
    } finally {
      await scratchPool.end();
      await scratch.drop();
    }
  });

  it('takes no new entry when a task is claimed, completed or updated', async () => {
    const kind = freshKind();
    const { task } = await store.submit({ kind });
    const [claimed] = await worker.claim(1, [kind], caps);
    await worker.progress({ id: claimed!.id, attempt: claimed!.attempts }, 50, 'half');
    await worker.complete([{ id: claimed!.id, attempt: claimed!.attempts, result: { ok: true } }]);
    expect(await entries([task.id])).toEqual([`${task.id} default ${task.createdAt.getTime()}`]);
    expect(await listed(kind)).toEqual([task.id]);
  });
});

describe('the order of one batch', () => {
  it('lists a bulk submit in submission order, and newest first in reverse, though its tasks share one created_at', async () => {
    const kind = freshKind();
    const submitted = (await store.submitMany(Array.from({ length: 500 }, (_, i) => ({ kind, input: { i } })))).map((r) => r.task.id);
    const { rows } = await pool.query<{ n: number }>('select count(distinct created_at)::int as n from tasklane.tasks where id = any($1::text[])', [submitted]);
    expect(rows[0]!.n).toBe(1);
    expect((await store.list({ kind: [kind], limit: 500 })).tasks.map((t) => t.id)).toEqual(submitted);
    expect((await store.list({ kind: [kind], limit: 500, order: 'desc' })).tasks.map((t) => t.id)).toEqual([...submitted].reverse());
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskNotRetryableError, ValidationError, type Task } from '@tasklane/core';
import { createPool, MAX_BULK_LIMIT, TaskOperations, TaskStore, WorkerStore } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let database: TestDatabase;
let pool: ReturnType<typeof createPool>;
let store: TaskStore;
let operations: TaskOperations;
let worker: WorkerStore;
let kindSeq = 0;

const caps = { total: 100_000, perKind: {} };
/** Each test its own kind, so claims and filters never see another test's tasks. */
const freshKind = () => `ops${kindSeq++}`;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url });
  store = new TaskStore(pool);
  operations = new TaskOperations(store, pool);
  worker = new WorkerStore(pool, { workerId: 'ops-test', leaseSeconds: 60 });
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

async function failed(kind: string, owner?: string): Promise<Task> {
  const { task } = await store.submit({ kind, input: { n: 1 }, priority: 7, maxAttempts: 1, service: 'svc', metadata: { batch: 'b1' } }, { owner });
  const [claimed] = await worker.claim(1, [kind], caps);
  await worker.fail({ id: claimed!.id, attempt: claimed!.attempts, error: { type: 'Boom', message: 'no', retryable: false } });
  return (await store.get(task.id))!;
}

describe('retry', () => {
  it('re-runs a failed task as a new pending task with the same request, linked to the original', async () => {
    const original = await failed(freshKind());
    expect(original.status).toBe('failed');
    const retried = await operations.retry(original.id);
    expect(retried.id).not.toBe(original.id);
    expect(retried).toMatchObject({
      kind: original.kind,
      service: 'svc',
      input: { n: 1 },
      priority: 7,
      maxAttempts: 1,
      metadata: { batch: 'b1' },
      owner: original.owner,
      status: 'pending',
      attempts: 0,
      retriedFrom: original.id,
      error: null,
    });
    expect(await store.get(retried.id)).toEqual(retried);
    // The original is left exactly as it was.
    expect(await store.get(original.id)).toEqual(original);
  });

  it('refuses a pending, a processing and a completed task, naming the status', async () => {
    const kind = freshKind();
    const { task: pending } = await store.submit({ kind });
    await expect(operations.retry(pending.id)).rejects.toThrow(/because it is pending/);
    const [processing] = await worker.claim(1, [kind], caps);
    await expect(operations.retry(processing!.id)).rejects.toBeInstanceOf(TaskNotRetryableError);
    await worker.complete([{ id: processing!.id, attempt: processing!.attempts, result: { ok: true } }]);
    await expect(operations.retry(processing!.id)).rejects.toThrow(/because it is completed/);
  });

  it('re-runs a cancelled task, and a task only once, even when two retries race', async () => {
    const { task } = await store.submit({ kind: freshKind() });
    await store.cancel(task.id);
    const outcomes = await Promise.allSettled([operations.retry(task.id), operations.retry(task.id), operations.retry(task.id)]);
    const made = outcomes.filter((o) => o.status === 'fulfilled');
    expect(made).toHaveLength(1);
    const retriedId = (made[0] as PromiseFulfilledResult<Task>).value.id;
    for (const o of outcomes.filter((o) => o.status === 'rejected')) {
      expect((o as PromiseRejectedResult).reason).toBeInstanceOf(TaskNotRetryableError);
      expect((o as PromiseRejectedResult).reason.message).toContain(`already been retried as ${retriedId}`);
    }
  });

  it("does not re-run another owner's task: it answers as if the task did not exist", async () => {
    const original = await failed(freshKind(), 'alice');
    await expect(operations.retry(original.id, { owner: 'bob' })).rejects.toThrow(/not found/);
    await expect(operations.retry(original.id, { owner: 'alice' })).resolves.toMatchObject({ owner: 'alice' });
  });
});

describe('metadata', () => {
  it('is stored, read back, and an empty object stores nothing', async () => {
    const { task } = await store.submit({ kind: freshKind(), metadata: { customer: 'acme', 'pipe line': 'ü ✓' } });
    expect((await store.get(task.id))!.metadata).toEqual({ customer: 'acme', 'pipe line': 'ü ✓' });
    const { task: bare } = await store.submit({ kind: freshKind(), metadata: {} });
    expect(bare.metadata).toEqual({});
    const { rows } = await pool.query('select metadata from tasklane.tasks where id = $1', [bare.id]);
    expect(rows[0].metadata).toBeNull();
  });

  it.each([
    [[1, 2], 'metadata: must be an object of string values'],
    ['x', 'metadata: must be an object of string values'],
    [{ n: 5 }, 'metadata.n: must be a string'],
    [{ '': 'x' }, 'metadata: keys must be 1-256 characters'],
    [{ k: 'v'.repeat(257) }, 'metadata.k: must be at most 256 characters'],
    [Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])), 'metadata: must have at most 16 keys'],
    [{ k: 'a\u0000b' }, 'metadata: must not contain'],
  ])('refuses %j naming the field and the rule', async (metadata, message) => {
    const error = await store.submit({ kind: freshKind(), metadata: metadata as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain(message);
  });

  it('filters lists by every given pair', async () => {
    const kind = freshKind();
    const [a, b] = await store.submitMany([
      { kind, metadata: { customer: 'acme', tier: 'gold' } },
      { kind, metadata: { customer: 'acme' } },
      { kind, metadata: { customer: 'initech' } },
      { kind },
    ]);
    // Sorted: tasks of one batch share their creation time, and ids made in one millisecond do not sort in batch order.
    const ids = async (metadata: Record<string, string>) => (await store.list({ kind: [kind], metadata })).tasks.map((t) => t.id).sort();
    expect(await ids({ customer: 'acme' })).toEqual([a!.task.id, b!.task.id].sort());
    expect(await ids({ customer: 'acme', tier: 'gold' })).toEqual([a!.task.id]);
    expect(await ids({ customer: 'nobody' })).toEqual([]);
  });

  it('a filter on one key is answered from the metadata index', async () => {
    const kind = freshKind();
    await store.submitMany(Array.from({ length: 5000 }, (_, i) => ({ kind, metadata: { customer: `c${i % 500}` } })));
    await pool.query('analyze tasklane.tasks');
    const { rows } = await pool.query(
      `explain (format json) select * from tasklane.tasks where metadata is not null and metadata @> '{"customer":"c7"}'::jsonb`,
    );
    expect(JSON.stringify(rows[0]['QUERY PLAN'])).toContain('tasks_metadata');
  });

  it('does not change the idempotency hash of requests without metadata, and binds it when given', async () => {
    const kind = freshKind();
    const first = await store.submit({ kind, idempotencyKey: 'meta-k1' });
    expect((await store.submit({ kind, idempotencyKey: 'meta-k1' })).replayed).toBe(true);
    await expect(store.submit({ kind, idempotencyKey: 'meta-k1', metadata: { a: 'b' } })).rejects.toThrow(/different request/);
    expect(first.task.metadata).toEqual({});
  });
});

describe('bulk actions', () => {
  it('cancel 10,000 matching tasks a bounded page at a time, leaving the rest alone', async () => {
    const kind = freshKind();
    const other = freshKind();
    for (let i = 0; i < 10; i++) {
      await store.submitMany(Array.from({ length: 1000 }, (_, j) => ({ kind, metadata: { shard: String((i * 1000 + j) % 2) } })));
    }
    await store.submitMany(Array.from({ length: 50 }, () => ({ kind: other })));
    // Some are running: those are cancelled too; finished ones only match.
    const running = await worker.claim(20, [kind], caps);
    await worker.complete(running.slice(0, 5).map((t) => ({ id: t.id, attempt: t.attempts, result: null })));

    let after: string | undefined;
    let calls = 0;
    let matched = 0;
    let changed = 0;
    do {
      const page = await operations.cancelMatching({ kind: [kind] }, { after });
      expect(page.matched).toBeLessThanOrEqual(MAX_BULK_LIMIT);
      matched += page.matched;
      changed += page.changed;
      after = page.nextCursor ?? undefined;
      calls++;
    } while (after);
    expect(matched).toBe(10_000);
    expect(changed).toBe(9_995);
    expect(calls).toBe(10);
    const counts = await pool.query<{ kind: string; status: string; n: number }>(
      'select kind, status, count(*)::int as n from tasklane.tasks where kind = any($1) group by kind, status order by kind, status',
      [[kind, other]],
    );
    expect(counts.rows).toEqual([
      { kind, status: 'cancelled', n: 9_995 },
      { kind, status: 'completed', n: 5 },
      { kind: other, status: 'pending', n: 50 },
    ]);
  });

  it('retry by status and metadata re-runs only failed or cancelled matches, once', async () => {
    const kind = freshKind();
    const bad = [await failed(kind), await failed(kind)];
    const { task: keep } = await store.submit({ kind, metadata: { batch: 'b1' } });
    const first = await operations.retryMatching({ kind: [kind], metadata: { batch: 'b1' } });
    expect(first).toEqual({ matched: 3, changed: 2, nextCursor: null });
    const again = await operations.retryMatching({ kind: [kind], status: ['failed'] });
    expect(again).toEqual({ matched: 2, changed: 0, nextCursor: null });
    const retried = (await store.list({ kind: [kind], status: ['pending'] })).tasks.filter((t) => t.retriedFrom);
    expect(retried.map((t) => t.retriedFrom).sort()).toEqual(bad.map((t) => t.id).sort());
    expect((await store.get(keep.id))!.status).toBe('pending');
  });

  it("an owner's bulk action touches only its own tasks", async () => {
    const kind = freshKind();
    await store.submitMany(Array.from({ length: 3 }, () => ({ kind })), { owner: 'carol' });
    await store.submitMany(Array.from({ length: 4 }, () => ({ kind })), { owner: 'dave' });
    expect(await operations.cancelMatching({ kind: [kind], owner: 'carol' })).toMatchObject({ matched: 3, changed: 3 });
    const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from tasklane.tasks where kind = $1 and owner = 'dave' and status = 'pending'`, [kind]);
    expect(rows[0]!.n).toBe(4);
  });

  it('asks before inserting how many re-runs a page makes, and inserts none when refused', async () => {
    const kind = freshKind();
    await failed(kind);
    await failed(kind);
    const asked: number[] = [];
    await expect(
      operations.retryMatching({ kind: [kind] }, {}, async (count) => {
        asked.push(count);
        throw new Error('over the limit');
      }),
    ).rejects.toThrow('over the limit');
    expect(asked).toEqual([2]);
    expect((await store.list({ kind: [kind], status: ['pending'] })).tasks).toHaveLength(0);
  });
});

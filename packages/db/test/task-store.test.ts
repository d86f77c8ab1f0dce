import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyConflictError, TaskNotCancellableError, TaskNotFoundError, ValidationError } from '@tasklane/core';
import { createPool, TaskStore, WorkerStore } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let database: TestDatabase;
let pool: ReturnType<typeof createPool>;
let store: TaskStore;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url });
  store = new TaskStore(pool);
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

const caps = { total: 1000, perKind: {} };

describe('submit and read', () => {
  it('stores a pending task with a kind-prefixed id and version 1', async () => {
    const { task, replayed } = await store.submit({ kind: 'video', input: { prompt: 'a cat' } });
    expect(replayed).toBe(false);
    expect(task.id).toMatch(/^vid_/);
    expect(task).toMatchObject({ status: 'pending', progress: 0, version: 1, input: { prompt: 'a cat' }, owner: 'default' });
    expect(await store.get(task.id)).toEqual(task);
  });

  it('submits many tasks in one statement, in order', async () => {
    const results = await store.submitMany([{ kind: 'image' }, { kind: 'video' }, { kind: 'image' }]);
    expect(results.map((r) => r.task.kind)).toEqual(['image', 'video', 'image']);
    expect(new Set(results.map((r) => r.task.id)).size).toBe(3);
  });

  it('stores each task of a batch with its own values, whether a column varies or is the same for all', async () => {
    const runAt = new Date(Date.now() + 60_000);
    const earlier = await store.submit({ kind: 'image', input: { n: 0 }, idempotencyKey: 'batch-mix-0' }, { owner: 'mixer' });
    const batch = [
      { kind: 'image', input: { n: 0 }, idempotencyKey: 'batch-mix-0' },
      { kind: 'video', input: { n: 1 }, service: 'veo3', priority: 5, runAt, maxAttempts: 7, idempotencyKey: 'batch-mix-1' },
      { kind: 'image', input: { n: 2 } },
      { kind: 'image', input: { n: 3 }, priority: -2 },
    ];
    const results = await store.submitMany(batch, { owner: 'mixer' });
    expect(results.map((r) => r.replayed)).toEqual([true, false, false, false]);
    expect(results[0]!.task).toEqual(earlier.task);
    for (const [i, { task }] of results.entries()) {
      const stored = await store.get(task.id, { owner: 'mixer' });
      expect(stored).toEqual(task);
      expect(stored).toMatchObject({ kind: batch[i]!.kind, input: batch[i]!.input, owner: 'mixer' });
    }
    expect(results[1]!.task).toMatchObject({ service: 'veo3', priority: 5, runAt, maxAttempts: 7, idempotencyKey: 'batch-mix-1' });
    expect(results[2]!.task).toMatchObject({ service: null, priority: 0, maxAttempts: 3, idempotencyKey: null });
    expect(results[3]!.task.priority).toBe(-2);

    const uniform = await store.submitMany(Array.from({ length: 3 }, (_, n) => ({ kind: 'audio', input: { n }, priority: 9, service: 'tts' })));
    for (const { task } of uniform) expect(await store.get(task.id)).toMatchObject({ kind: 'audio', priority: 9, service: 'tts', owner: 'default' });
  });

  it('names the bad field of a submission', async () => {
    await expect(store.submit({ kind: 'Video!' })).rejects.toThrow(ValidationError);
    await expect(store.submit({ kind: 'video', maxAttempts: 0 })).rejects.toThrow(/maxAttempts: must be a whole number from 1 to 100/);
    await expect(store.submitMany([{ kind: 'video' }, { kind: 'video', priority: 1.5 }])).rejects.toThrow(/tasks\[1\]\.priority/);
  });

  it('hides another owner\'s task as if it did not exist', async () => {
    const { task } = await store.submit({ kind: 'video' }, { owner: 'alice' });
    expect(await store.get(task.id, { owner: 'bob' })).toBeUndefined();
    expect((await store.get(task.id, { owner: 'alice' }))?.id).toBe(task.id);
    await expect(store.cancel(task.id, { owner: 'bob' })).rejects.toThrow(TaskNotFoundError);
  });

  it('stores strings that look like SQL verbatim', async () => {
    const input = { prompt: "'); drop table tasklane.tasks; --", nested: ['$1', '\\x00'] };
    const { task } = await store.submit({ kind: 'video', input, service: "veo3' or '1'='1" });
    expect((await store.get(task.id))?.input).toEqual(input);
    expect((await store.get(task.id))?.service).toBe("veo3' or '1'='1");
  });
});

describe('idempotency keys', () => {
  it('returns the original task for the same key and the same request', async () => {
    const first = await store.submit({ kind: 'video', input: { a: 1, b: 2 }, idempotencyKey: 'k-1' });
    const again = await store.submit({ kind: 'video', input: { b: 2, a: 1 }, idempotencyKey: 'k-1' });
    expect(again).toEqual({ task: first.task, replayed: true });
  });

  it('refuses the same key with a different request', async () => {
    await store.submit({ kind: 'video', input: { a: 1 }, idempotencyKey: 'k-2' });
    await expect(store.submit({ kind: 'video', input: { a: 2 }, idempotencyKey: 'k-2' })).rejects.toThrow(IdempotencyConflictError);
  });

  it('keeps keys apart per owner', async () => {
    const a = await store.submit({ kind: 'video', idempotencyKey: 'shared' }, { owner: 'a' });
    const b = await store.submit({ kind: 'video', idempotencyKey: 'shared' }, { owner: 'b' });
    expect(a.task.id).not.toBe(b.task.id);
    expect(b.replayed).toBe(false);
  });

  it('creates one task when the same key races', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => store.submit({ kind: 'image', idempotencyKey: 'race' })));
    expect(new Set(results.map((r) => r.task.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
  });
});

describe('list', () => {
  it('pages through every task exactly once, in both orders, with filters', async () => {
    const owner = 'lister';
    const made = await store.submitMany(
      Array.from({ length: 25 }, (_, i) => ({ kind: i % 2 ? 'video' : 'image', input: { i } })),
      { owner },
    );
    for (const order of ['asc', 'desc'] as const) {
      const seen: string[] = [];
      let after: string | undefined;
      do {
        const page = await store.list({ owner, limit: 7, order, after });
        seen.push(...page.tasks.map((t) => t.id));
        after = page.nextCursor ?? undefined;
      } while (after);
      const expected = made.map((r) => r.task).sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime() || (x.id < y.id ? -1 : 1)).map((t) => t.id);
      expect(seen).toEqual(order === 'asc' ? expected : expected.reverse());
    }
    const videos = await store.list({ owner, kind: ['video'], limit: 100 });
    expect(videos.tasks).toHaveLength(12);
    expect(videos.nextCursor).toBeNull();
    const none = await store.list({ owner, status: ['completed'] });
    expect(none.tasks).toEqual([]);
    const future = await store.list({ owner, createdAfter: new Date(Date.now() + 60_000) });
    expect(future.tasks).toEqual([]);
  });

  it('refuses bad limits and foreign cursors', async () => {
    await expect(store.list({ limit: 0 })).rejects.toThrow(/limit: must be a whole number from 1 to 1000/);
    await expect(store.list({ limit: 1001 })).rejects.toThrow(ValidationError);
    await expect(store.list({ after: 'not-a-cursor' })).rejects.toThrow(/cursor/);
  });
});

describe('cancel', () => {
  it('cancels a pending task and answers the same again when repeated', async () => {
    const { task } = await store.submit({ kind: 'video' });
    const first = await store.cancel(task.id);
    expect(first.task).toMatchObject({ status: 'cancelled', version: 2 });
    expect(first.alreadyCancelled).toBe(false);
    const again = await store.cancel(task.id);
    expect(again.alreadyCancelled).toBe(true);
    expect(again.task.status).toBe('cancelled');
  });

  it('cancels a processing task and fences the worker out', async () => {
    const { task } = await store.submit({ kind: 'transcode' });
    const worker = new WorkerStore(pool, { workerId: 'w-cancel', leaseSeconds: 30 });
    const [claimed] = await worker.claim(1, ['transcode'], caps);
    expect(claimed?.id).toBe(task.id);
    expect((await store.cancel(task.id)).task.status).toBe('cancelled');
    const completed = await worker.complete([{ id: task.id, attempt: claimed!.attempts, result: { ok: true } }]);
    expect(completed.size).toBe(0);
    expect(await worker.heartbeat([{ id: task.id, attempt: claimed!.attempts }])).toEqual([task.id]);
    expect((await store.get(task.id))?.status).toBe('cancelled');
  });

  it('refuses completed and failed tasks with TASK_NOT_CANCELLABLE, and unknown ids with NOT_FOUND', async () => {
    const worker = new WorkerStore(pool, { workerId: 'w-refuse', leaseSeconds: 30 });
    const [a, b] = await store.submitMany([{ kind: 'refusal', maxAttempts: 1 }, { kind: 'refusal', maxAttempts: 1 }]);
    const claimed = await worker.claim(2, ['refusal'], caps);
    const byId = new Map(claimed.map((t) => [t.id, t]));
    await worker.complete([{ id: a!.task.id, attempt: byId.get(a!.task.id)!.attempts, result: 1 }]);
    await worker.fail({ id: b!.task.id, attempt: byId.get(b!.task.id)!.attempts, error: { type: 'X', message: 'no', retryable: false } });
    const refusal = store.cancel(a!.task.id);
    await expect(refusal).rejects.toThrow(TaskNotCancellableError);
    await expect(store.cancel(a!.task.id)).rejects.toMatchObject({ code: 'TASK_NOT_CANCELLABLE', message: expect.stringContaining('completed') });
    await expect(store.cancel(b!.task.id)).rejects.toMatchObject({ code: 'TASK_NOT_CANCELLABLE', message: expect.stringContaining('failed') });
    await expect(store.cancel('vid_00000000000000000000000000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

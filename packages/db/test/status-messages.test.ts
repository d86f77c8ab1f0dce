import { describe, expect, it } from 'vitest';
import { STATUS_MESSAGES } from '@tasklane/core';
import { TaskStore, WorkerStore } from '../src/index.ts';
import { useTestPool } from '../src/testing.ts';

const db = useTestPool({ max: 2 });

const UNCAPPED = { total: 100, perKind: {} };

describe('the message each transition stores', () => {
  it("is the status's entry in STATUS_MESSAGES, in the row and in what the store answers", async () => {
    const store = new TaskStore(db.pool);
    const worker = new WorkerStore(db.pool, { workerId: 'messages', leaseSeconds: 30 });
    const { task: submitted } = await store.submit({ kind: 'video' });
    expect(submitted.message).toBe(STATUS_MESSAGES.pending);
    expect((await store.get(submitted.id))?.message).toBe(STATUS_MESSAGES.pending);

    const [claimed] = await worker.claim(1, ['video'], UNCAPPED);
    expect(claimed?.message).toBe(STATUS_MESSAGES.processing);
    expect((await store.get(submitted.id))?.message).toBe(STATUS_MESSAGES.processing);

    await worker.complete([{ id: claimed!.id, attempt: claimed!.attempts, result: { ok: true } }]);
    expect((await store.get(submitted.id))?.message).toBe(STATUS_MESSAGES.completed);

    const { task: other } = await store.submit({ kind: 'video' });
    expect((await store.cancel(other.id)).task.message).toBe(STATUS_MESSAGES.cancelled);
    expect((await store.get(other.id))?.message).toBe(STATUS_MESSAGES.cancelled);
  });
});

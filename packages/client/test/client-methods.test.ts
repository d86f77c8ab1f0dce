import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTaskId } from '@tasklane/core';
import { TasklaneConnectionError, TasklaneRequestError, type Task, type TasklaneClient } from '../src/index.ts';
import { startLiveApi, type LiveApi } from './live-api.ts';

let live: LiveApi;
let client: TasklaneClient;
beforeAll(async () => {
  live = await startLiveApi();
  client = live.client();
}, 180_000);
afterAll(() => live?.close());

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('submit', () => {
  it('queues a task with every option and returns it pending', async () => {
    const runAt = new Date(Date.now() - 1000);
    const task = await client.submit({ kind: 'sub_all', service: 'veo3', input: { prompt: 'a cat' }, priority: 7, maxAttempts: 2, runAt });
    expect(task).toMatchObject({ kind: 'sub_all', service: 'veo3', status: 'PENDING', progress: 0, input: { prompt: 'a cat' }, priority: 7, maxAttempts: 2 });
    expect(task.id).toMatch(/^sub_/);
    expect(task.runAt).toBe(runAt.toISOString());
  });

  it('returns the original task for a repeated idempotency key and rejects another body with IDEMPOTENCY_CONFLICT', async () => {
    const first = await client.submit({ kind: 'sub_idem', input: { n: 1 }, idempotencyKey: 'key-1' });
    const again = await client.submit({ kind: 'sub_idem', input: { n: 1 }, idempotencyKey: 'key-1' });
    expect(again.id).toBe(first.id);
    const error = await rejection(client.submit({ kind: 'sub_idem', input: { n: 2 }, idempotencyKey: 'key-1' }));
    expect(error).toBeInstanceOf(TasklaneRequestError);
    expect((error as TasklaneRequestError).code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('submits with a webhook, and rejects a bad webhook URL naming webhook.url', async () => {
    const task = await client.submit({ kind: 'sub_hook', webhook: { url: 'https://example.com/hooks', events: ['PROGRESS', 'COMPLETED'] } });
    expect(task.status).toBe('PENDING');
    const error = (await rejection(client.submit({ kind: 'sub_hook', webhook: { url: 'example.com/hooks' } }))) as TasklaneRequestError;
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toBe('webhook.url');
  });

  it('rejects a bad kind with BAD_USER_INPUT naming the field', async () => {
    const error = (await rejection(client.submit({ kind: 'Not A Kind' }))) as TasklaneRequestError;
    expect(error).toBeInstanceOf(TasklaneRequestError);
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toBe('kind');
  });
});

describe('details', () => {
  it("reads a task's attempts, the retried one with its error, and its webhook deliveries", async () => {
    const submitted = await client.submit({ kind: 'details_one' });
    await live.driver.fail(await live.driver.claim('details_one'), { type: 'Upstream', message: 'answered 503', retryable: true });
    await live.driver.claim('details_one');
    const { attemptHistory, webhookDeliveries } = await client.details(submitted.id);
    expect(attemptHistory).toMatchObject([
      { attempt: 1, outcome: 'FAILED', error: { type: 'Upstream', message: 'answered 503' }, endedAt: expect.any(String) },
      { attempt: 2, outcome: 'RUNNING', error: null, endedAt: null },
    ]);
    expect(attemptHistory[0]!.worker).toMatch(/^test-driver-/);
    expect(webhookDeliveries).toEqual([]);
  });

  it('rejects an unknown id with NOT_FOUND', async () => {
    const error = (await rejection(client.details(newTaskId('video')))) as TasklaneRequestError;
    expect(error).toBeInstanceOf(TasklaneRequestError);
    expect(error.code).toBe('NOT_FOUND');
  });
});

describe('get', () => {
  it('reads the current state of a task', async () => {
    const submitted = await client.submit({ kind: 'get_one' });
    const claimed = await live.driver.claim('get_one');
    await live.driver.progress(claimed, 30, 'Encoding');
    const task = await client.get(submitted.id);
    expect(task).toMatchObject({ id: submitted.id, status: 'PROCESSING', progress: 30, message: 'Encoding', attempts: 1 });
    expect(task.version).toBeGreaterThan(submitted.version);
  });

  it('rejects an unknown id with NOT_FOUND', async () => {
    const error = (await rejection(client.get(newTaskId('video')))) as TasklaneRequestError;
    expect(error).toBeInstanceOf(TasklaneRequestError);
    expect(error.code).toBe('NOT_FOUND');
  });

  it('rejects with a connection error when nothing listens at the address', async () => {
    const offline = live.client({ url: 'http://127.0.0.1:1/graphql' });
    const error = await rejection(offline.get(newTaskId('video')));
    expect(error).toBeInstanceOf(TasklaneConnectionError);
  });
});

describe('list', () => {
  it('iterates over every page, filtered by kind and status, in creation order', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client.submit({ kind: 'list_all', input: { i } })).id);
    await client.submit({ kind: 'list_other' });
    await client.cancel(ids[4]!);

    const all: Task[] = [];
    for await (const task of client.list({ kind: 'list_all', pageSize: 2 })) all.push(task);
    expect(all.map((t) => t.id)).toEqual(ids);

    const pending: string[] = [];
    for await (const task of client.list({ kind: ['list_all'], status: 'PENDING', pageSize: 3 })) pending.push(task.id);
    expect(pending).toEqual(ids.slice(0, 4));

    const newest: string[] = [];
    for await (const task of client.list({ kind: 'list_all', order: 'DESC', limit: 3, pageSize: 2 })) newest.push(task.id);
    expect(newest).toEqual([ids[4], ids[3], ids[2]]);
  });

  it('hands out single pages with a cursor for the next one', async () => {
    for (let i = 0; i < 3; i++) await client.submit({ kind: 'list_page' });
    const first = await client.listPage({ kind: 'list_page', pageSize: 2 });
    expect(first.tasks).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await client.listPage({ kind: 'list_page', pageSize: 2, after: first.nextCursor });
    expect(second.tasks).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
  });
});

describe('cancel', () => {
  it('cancels a pending task, idempotently', async () => {
    const task = await client.submit({ kind: 'cancel_ok' });
    const first = await client.cancel(task.id);
    expect(first).toMatchObject({ success: true, alreadyCancelled: false, message: `Task ${task.id} has been cancelled`, task: { id: task.id, status: 'CANCELLED' } });
    const second = await client.cancel(task.id);
    expect(second.alreadyCancelled).toBe(true);
  });

  it('rejects a completed task with TASK_NOT_CANCELLABLE', async () => {
    const task = await client.submit({ kind: 'cancel_done' });
    await live.driver.complete(await live.driver.claim('cancel_done'), { ok: true });
    const error = (await rejection(client.cancel(task.id))) as TasklaneRequestError;
    expect(error).toBeInstanceOf(TasklaneRequestError);
    expect(error.code).toBe('TASK_NOT_CANCELLABLE');
  });
});

describe('watch', () => {
  it('yields the current state, every change in version order, and ends after the terminal state', async () => {
    const task = await client.submit({ kind: 'watch_life' });
    const updates = client.watch(task.id);
    const seen: Task[] = [];
    const next = async () => {
      const step = await updates.next();
      if (step.done) throw new Error('watch ended early');
      seen.push(step.value);
      return step.value;
    };
    expect(await next()).toMatchObject({ id: task.id, status: 'PENDING' });
    const claimed = await live.driver.claim('watch_life');
    expect(await next()).toMatchObject({ status: 'PROCESSING' });
    await live.driver.progress(claimed, 60, 'Rendering');
    expect(await next()).toMatchObject({ status: 'PROCESSING', progress: 60, message: 'Rendering' });
    await live.driver.complete(claimed, { video_url: 'https://cdn.example.com/v.mp4' });
    expect(await next()).toMatchObject({ status: 'COMPLETED', progress: 100, result: { video_url: 'https://cdn.example.com/v.mp4' } });
    expect((await updates.next()).done).toBe(true);
    const versions = seen.map((t) => t.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
  });

  it('rejects an unknown id with NOT_FOUND', async () => {
    const error = (await rejection(client.watch(newTaskId('video')).next())) as TasklaneRequestError;
    expect(error).toBeInstanceOf(TasklaneRequestError);
    expect(error.code).toBe('NOT_FOUND');
  });

  it('stops when its signal aborts', async () => {
    const task = await client.submit({ kind: 'watch_abort' });
    const controller = new AbortController();
    const updates = client.watch(task.id, { signal: controller.signal });
    expect((await updates.next()).value).toMatchObject({ status: 'PENDING' });
    const waiting = updates.next();
    controller.abort(new Error('enough'));
    await expect(waiting).rejects.toThrow('enough');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '@tasklane/core';
import { startRestHarness, TIMESTAMP, uniqueKind, type RestHarness } from './rest-harness.ts';

let h: RestHarness;
beforeAll(async () => {
  h = await startRestHarness();
});
afterAll(async () => {
  await h.close();
});

const GET_KEYS = ['task_id', 'status', 'progress', 'created_at', 'updated_at', 'completed_at', 'result', 'error'];
const LIST_KEYS = ['task_id', 'status', 'progress', 'created_at', 'updated_at', 'message'];

/** The seed's timestamp: the stored time, UTC, truncated to whole seconds. */
function seedTime(date: Date): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

async function submit(kind: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await fetch(`${h.baseUrl}/api/v1/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind, input: { prompt: 'a cat' }, ...extra }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { task_id: string }).task_id;
}

async function getTask(id: string): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
  const response = await fetch(`${h.baseUrl}/api/v1/tasks/${id}`);
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> };
}

async function stored(id: string): Promise<Task> {
  return (await h.ctx.store.get(id))!;
}

describe('GET /api/v1/tasks/{task_id} in the seed shape', () => {
  it('answers a pending task with the eight keys in order and null completion fields', async () => {
    const id = await submit(uniqueKind('pend'));
    const { status, body } = await getTask(id);
    const task = await stored(id);
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(GET_KEYS);
    expect(body).toEqual({
      task_id: id,
      status: 'pending',
      progress: 0,
      created_at: seedTime(task.createdAt),
      updated_at: seedTime(task.updatedAt),
      completed_at: null,
      result: null,
      error: null,
    });
    expect(body.created_at).toMatch(TIMESTAMP);
    expect(body.updated_at).toMatch(TIMESTAMP);
  });

  it('answers a processing task with its reported progress', async () => {
    const kind = uniqueKind('proc');
    const id = await submit(kind);
    await h.worker.claim(kind);
    await h.worker.progress(id, 45, 'rendering');
    const { body } = await getTask(id);
    const task = await stored(id);
    expect(Object.keys(body)).toEqual(GET_KEYS);
    expect(body).toEqual({
      task_id: id,
      status: 'processing',
      progress: 45,
      created_at: seedTime(task.createdAt),
      updated_at: seedTime(task.updatedAt),
      completed_at: null,
      result: null,
      error: null,
    });
  });

  it('answers a completed task with service, handler output and duration in seconds', async () => {
    const kind = uniqueKind('done');
    const id = await submit(kind);
    await h.worker.claim(kind);
    await h.worker.complete(id, { video_url: 'https://cdn.example.com/video.mp4' }, 'veo3');
    const { body, text } = await getTask(id);
    const task = await stored(id);
    expect(Object.keys(body)).toEqual(GET_KEYS);
    const duration = (task.completedAt!.getTime() - task.startedAt!.getTime()) / 1000;
    expect(body).toEqual({
      task_id: id,
      status: 'completed',
      progress: 100,
      created_at: seedTime(task.createdAt),
      updated_at: seedTime(task.updatedAt),
      completed_at: seedTime(task.completedAt!),
      result: { service: 'veo3', result: { video_url: 'https://cdn.example.com/video.mp4' }, duration },
      error: null,
    });
    expect(body.completed_at).toMatch(TIMESTAMP);
    expect(Object.keys(body.result as object)).toEqual(['service', 'result', 'duration']);
    expect(text).not.toMatch(/\.\d{3}Z/);
  });

  it('answers a failed task with the error type and message, no completed_at, and its last progress', async () => {
    const kind = uniqueKind('fail');
    const id = await submit(kind, { max_attempts: 1 });
    await h.worker.claim(kind);
    await h.worker.fail(id, { type: 'VideoGenerationError', message: 'Content policy violation', retryable: false }, 35);
    const { body } = await getTask(id);
    const task = await stored(id);
    expect(Object.keys(body)).toEqual(GET_KEYS);
    expect(body).toEqual({
      task_id: id,
      status: 'failed',
      progress: 35,
      created_at: seedTime(task.createdAt),
      updated_at: seedTime(task.updatedAt),
      completed_at: null,
      result: null,
      error: { type: 'VideoGenerationError', message: 'Content policy violation' },
    });
    expect(Object.keys(body.error as object)).toEqual(['type', 'message']);
  });

  it('shows no error while a failed attempt waits for its retry', async () => {
    const kind = uniqueKind('retry');
    const id = await submit(kind, { max_attempts: 3 });
    await h.worker.claim(kind);
    expect(await h.worker.fail(id, { type: 'Timeout', message: 'upstream timed out', retryable: true })).toBe('pending');
    const { body } = await getTask(id);
    expect(body).toMatchObject({ status: 'pending', error: null, result: null, completed_at: null });
    expect((await stored(id)).error).not.toBeNull();
  });

  it('answers a cancelled task with null completion fields', async () => {
    const id = await submit(uniqueKind('canc'));
    expect((await fetch(`${h.baseUrl}/api/v1/tasks/${id}`, { method: 'DELETE' })).status).toBe(200);
    const { body } = await getTask(id);
    const task = await stored(id);
    expect(Object.keys(body)).toEqual(GET_KEYS);
    expect(body).toEqual({
      task_id: id,
      status: 'cancelled',
      progress: 0,
      created_at: seedTime(task.createdAt),
      updated_at: seedTime(task.updatedAt),
      completed_at: null,
      result: null,
      error: null,
    });
  });

  it('answers 404 problem+json for an unknown id and for one that cannot be an id', async () => {
    for (const id of ['vid_00000000000000000000000000', 'not-an-id', '%E2%9C%93', "x'%20or%201=1"]) {
      const response = await fetch(`${h.baseUrl}/api/v1/tasks/${id}`);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ type: 'https://tasklane.dev/problems/not-found', title: 'Not Found', status: 404 });
      expect(body.detail).toMatch(/^Task .+ not found$/);
    }
  });
});

describe('DELETE /api/v1/tasks/{task_id}', () => {
  async function cancel(id: string) {
    const response = await fetch(`${h.baseUrl}/api/v1/tasks/${id}`, { method: 'DELETE' });
    return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> };
  }

  it('cancels a pending task with the seed body, and answers the same again', async () => {
    const id = await submit(uniqueKind('delp'));
    const first = await cancel(id);
    expect(first.status).toBe(200);
    expect(Object.keys(first.body)).toEqual(['success', 'message', 'task_id']);
    expect(first.body).toEqual({ success: true, message: `Task ${id} has been cancelled`, task_id: id });
    const again = await cancel(id);
    expect(again).toEqual(first);
    expect((await stored(id)).status).toBe('cancelled');
  });

  it('cancels a processing task', async () => {
    const kind = uniqueKind('delr');
    const id = await submit(kind);
    await h.worker.claim(kind);
    const { status, body } = await cancel(id);
    expect(status).toBe(200);
    expect(body).toEqual({ success: true, message: `Task ${id} has been cancelled`, task_id: id });
    expect((await stored(id)).status).toBe('cancelled');
  });

  it('refuses completed and failed tasks with 409, success false and the reason', async () => {
    const kind = uniqueKind('delx');
    const done = await submit(kind, { max_attempts: 1 });
    const failed = await submit(kind, { max_attempts: 1 });
    await h.worker.claimMany(kind, 2);
    await h.worker.complete(done, { ok: true });
    await h.worker.fail(failed, { type: 'X', message: 'no', retryable: false });
    for (const [id, status] of [[done, 'completed'], [failed, 'failed']] as const) {
      const refusal = await cancel(id);
      expect(refusal.status).toBe(409);
      expect(refusal.type).toBe('application/problem+json; charset=utf-8');
      expect(refusal.body).toEqual({
        type: 'https://tasklane.dev/problems/task-not-cancellable',
        title: 'Task cannot be cancelled',
        status: 409,
        detail: `Task ${id} cannot be cancelled because it is already ${status}`,
        code: 'TASK_NOT_CANCELLABLE',
        success: false,
        message: `Task ${id} cannot be cancelled because it is already ${status}`,
        task_id: id,
        task_status: status,
      });
      expect((await stored(id)).status).toBe(status);
    }
  });

  it('answers 404 for an unknown task, with success false', async () => {
    const id = 'vid_00000000000000000000000000';
    const { status, type, body } = await cancel(id);
    expect(status).toBe(404);
    expect(type).toBe('application/problem+json; charset=utf-8');
    expect(body).toMatchObject({ type: 'https://tasklane.dev/problems/not-found', status: 404, success: false, task_id: id });
  });
});

describe('GET /api/v1/tasks list items', () => {
  it('lists items with exactly the seed keys and each task\'s message', async () => {
    const kind = uniqueKind('lst');
    const done = await submit(kind);
    const queued = await submit(kind);
    await h.worker.claim(kind);
    await h.worker.complete(done, { ok: 1 });
    const response = await fetch(`${h.baseUrl}/api/v1/tasks?kind=${kind}`);
    expect(response.status).toBe(200);
    const items = (await response.json()) as Record<string, unknown>[];
    expect(items.map((i) => Object.keys(i))).toEqual([LIST_KEYS, LIST_KEYS]);
    const [a, b] = [await stored(done), await stored(queued)];
    expect(items).toEqual([
      { task_id: done, status: 'completed', progress: 100, created_at: seedTime(a.createdAt), updated_at: seedTime(a.updatedAt), message: 'Task completed successfully' },
      { task_id: queued, status: 'pending', progress: 0, created_at: seedTime(b.createdAt), updated_at: seedTime(b.updatedAt), message: 'Task queued' },
    ]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '@tasklane/core';
import { createPool, TaskStore } from '@tasklane/db';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { createWorker, NO_SPAN, TaskAbortedError, type TaskContext, type Worker } from '@tasklane/worker';
import { builtInHandlers, imageHandler, videoHandler } from '../src/index.ts';

let database: TestDatabase;
let pool: ReturnType<typeof createPool>;
let store: TaskStore;
let worker: Worker;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool({ connectionString: database.url, max: 4 });
  store = new TaskStore(pool);
  worker = createWorker({
    connectionString: database.url,
    handlers: builtInHandlers,
    concurrency: 20,
    leaseSeconds: 30,
    caps: { total: 100, perKind: {} },
    pollIntervalMs: 200,
    retryBaseSeconds: 0.05,
    retentionHours: 24,
    maintenanceIntervalMs: 0,
  });
  await worker.start();
});
afterAll(async () => {
  await worker.stop({ graceMs: 0 });
  await pool.end();
  await database.drop();
});

async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function settled(id: string): Promise<Task> {
  return waitFor(async () => {
    const task = await store.get(id);
    return task && ['completed', 'failed', 'cancelled'].includes(task.status) ? task : undefined;
  }, `task ${id} to settle`);
}

async function run(kind: string, input: object, maxAttempts = 3): Promise<Task> {
  const { task } = await store.submit({ kind, input: input as never, maxAttempts });
  return settled(task.id);
}

describe('through a worker', () => {
  it('generates a video with the veo3 service', async () => {
    const task = await run('video', { prompt: 'a cat', duration_seconds: 0 });
    expect(task).toMatchObject({
      status: 'completed',
      service: 'veo3',
      progress: 100,
      attempts: 1,
      result: { video_url: `https://cdn.example.com/videos/${task.id}.mp4` },
      error: null,
    });
  });

  it('generates an image with the imagen service, taking fractional durations', async () => {
    const task = await run('image', { prompt: 'a dog', duration_seconds: 0.05 });
    expect(task).toMatchObject({ status: 'completed', service: 'imagen', result: { image_url: `https://cdn.example.com/images/${task.id}.png` } });
  });

  it('fails a content policy violation at once with the seed\'s error shape, keeping progress 35', async () => {
    const video = await run('video', { duration_seconds: 0.2, fail: 'content_policy' });
    expect(video).toMatchObject({
      status: 'failed',
      progress: 35,
      attempts: 1,
      result: null,
      error: { type: 'VideoGenerationError', message: 'Content policy violation', retryable: false },
    });
    const image = await run('image', { duration_seconds: 0, fail: 'content_policy' });
    expect(image).toMatchObject({ status: 'failed', progress: 35, error: { type: 'ImageGenerationError', message: 'Content policy violation' } });
  });

  it('retries a transient failure until max_attempts, then fails', async () => {
    const task = await run('video', { duration_seconds: 0, fail: 'transient' }, 3);
    expect(task).toMatchObject({ status: 'failed', attempts: 3, error: { type: 'ServiceUnavailable', retryable: true } });
  });

  it('rejects bad input without retrying', async () => {
    for (const input of [{ duration_seconds: -1 }, { duration_seconds: '5' }, { duration_seconds: null }, { fail: 'sometimes' }]) {
      const task = await run('video', input, 3);
      expect(task).toMatchObject({ status: 'failed', attempts: 1, error: { type: 'ValidationError', retryable: false } });
    }
  });

  it('reports progress with messages while it runs, and stops at once when cancelled', async () => {
    const { task } = await store.submit({ kind: 'video', input: { duration_seconds: 20 } });
    const running = await waitFor(async () => {
      const t = await store.get(task.id);
      return t?.status === 'processing' && t.progress > 0 ? t : undefined;
    }, 'progress to be reported');
    expect(running.message).toMatch(/^(Analyzing prompt|Rendering frames|Encoding video) \d+%$/);
    await store.cancel(task.id);
    await waitFor(async () => worker.running === 0, 'the handler to stop', 10_000);
    expect((await store.get(task.id))?.status).toBe('cancelled');
  });
});

describe('called directly', () => {
  function context(signal: AbortSignal, reports: [number, string | undefined][]): TaskContext {
    const log = { debug() {}, info() {}, warn() {}, error() {} };
    return { progress: (p, m) => void reports.push([p, m]), signal, attempt: 1, workerId: 'direct', log, span: NO_SPAN, setService() {} };
  }
  const task = (kind: string, input: object) => ({ id: `${kind.slice(0, 3)}_direct`, kind, input }) as unknown as Task;

  it('reports stepwise progress with stage messages', async () => {
    const reports: [number, string | undefined][] = [];
    const result = await videoHandler.run(task('video', { duration_seconds: 0 }), context(new AbortController().signal, reports));
    expect(result).toEqual({ video_url: 'https://cdn.example.com/videos/vid_direct.mp4' });
    expect(reports.map(([p]) => p)).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95]);
    expect(reports[7]).toEqual([40, 'Rendering frames 40%']);
  });

  it('rejects with the signal\'s reason as soon as it fires', async () => {
    const controller = new AbortController();
    const reports: [number, string | undefined][] = [];
    const running = imageHandler.run(task('image', { duration_seconds: 600 }), context(controller.signal, reports));
    const reason = new TaskAbortedError('cancelled', 'img_direct');
    setTimeout(() => controller.abort(reason), 20);
    await expect(running).rejects.toBe(reason);
    expect(reports).toEqual([]);
  });
});

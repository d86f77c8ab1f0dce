import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@tasklane/db';
import {
  TaskCancelledError,
  TaskFailedError,
  TaskTimeoutError,
  TasklaneConnectionError,
  type ProgressInfo,
  type StallInfo,
  type Task,
  type TasklaneClient,
} from '../src/index.ts';
import { startLiveApi, type LiveApi } from './live-api.ts';

let live: LiveApi;
let client: TasklaneClient;
beforeAll(async () => {
  live = await startLiveApi();
  client = live.client();
}, 180_000);
afterAll(() => live?.close());

/** Collects onProgress calls and lets a test wait for a given one. */
function progressLog() {
  const seen: { task: Task; info: ProgressInfo }[] = [];
  const waiters: { match: (task: Task) => boolean; resolve: () => void }[] = [];
  return {
    seen,
    onProgress(task: Task, info: ProgressInfo) {
      seen.push({ task, info });
      for (const waiter of waiters.filter((w) => w.match(task))) waiter.resolve();
    },
    reached(match: (task: Task) => boolean): Promise<void> {
      if (seen.some((s) => match(s.task))) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

describe('waitFor over the subscription', () => {
  it('reports each state and resolves with the completed task', async () => {
    const task = await client.submit({ kind: 'wf_ok' });
    const log = progressLog();
    const done = client.waitFor(task.id, { onProgress: log.onProgress });
    await log.reached((t) => t.status === 'PENDING');
    const claimed = await live.driver.claim('wf_ok');
    await log.reached((t) => t.status === 'PROCESSING');
    await live.driver.progress(claimed, 50, 'Half');
    await log.reached((t) => t.progress === 50);
    await live.driver.complete(claimed, { video_url: 'u' });
    const completed = await done;
    expect(completed).toMatchObject({ id: task.id, status: 'COMPLETED', result: { video_url: 'u' } });
    expect(log.seen.map((s) => [s.task.status, s.task.progress])).toEqual([
      ['PENDING', 0],
      ['PROCESSING', 0],
      ['PROCESSING', 50],
      ['COMPLETED', 100],
    ]);
    expect(log.seen.every((s) => s.info.via === 'subscription')).toBe(true);
  });

  it('rejects with TaskFailedError carrying the task error', async () => {
    const task = await client.submit({ kind: 'wf_fail' });
    // Observed from the start: it may reject while the test is still driving the task.
    const done = client.waitFor(task.id).catch((e: unknown) => e);
    await live.driver.fail(await live.driver.claim('wf_fail'), { type: 'VideoGenerationError', message: 'Content policy violation', retryable: false });
    const error = (await done) as TaskFailedError;
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error.code).toBe('TASK_FAILED');
    expect(error.errorType).toBe('VideoGenerationError');
    expect(error.errorMessage).toBe('Content policy violation');
    expect(error.retryable).toBe(false);
    expect(error.task).toMatchObject({ id: task.id, status: 'FAILED' });
  });

  it('rejects with TaskCancelledError when the task is cancelled', async () => {
    const task = await client.submit({ kind: 'wf_cancel' });
    const log = progressLog();
    // Observed from the start: it may reject while the test is still driving the task.
    const done = client.waitFor(task.id, { onProgress: log.onProgress }).catch((e: unknown) => e);
    await log.reached((t) => t.status === 'PENDING');
    await client.cancel(task.id);
    const error = (await done) as TaskCancelledError;
    expect(error).toBeInstanceOf(TaskCancelledError);
    expect(error.task).toMatchObject({ id: task.id, status: 'CANCELLED' });
  });

  it('rejects with TaskTimeoutError after its timeout, carrying the last state seen', async () => {
    const task = await client.submit({ kind: 'wf_timeout' });
    const error = (await client.waitFor(task.id, { timeout: 300 }).catch((e: unknown) => e)) as TaskTimeoutError;
    expect(error).toBeInstanceOf(TaskTimeoutError);
    expect(error.taskId).toBe(task.id);
    expect(error.timeout).toBe(300);
    expect(error.lastTask).toMatchObject({ id: task.id, status: 'PENDING' });
    // Timing out only stops waiting: the task itself is untouched.
    expect((await client.get(task.id)).status).toBe('PENDING');
  });

  it('rejects with the signal reason when aborted', async () => {
    const task = await client.submit({ kind: 'wf_abort' });
    const controller = new AbortController();
    const log = progressLog();
    const done = client.waitFor(task.id, { signal: controller.signal, onProgress: log.onProgress });
    await log.reached((t) => t.status === 'PENDING');
    controller.abort(new Error('user gave up'));
    await expect(done).rejects.toThrow('user gave up');
  });
});

describe('waitFor by polling', () => {
  it('falls back to polling when the socket is refused, and still ends with the result', async () => {
    const closedPort = await freePort();
    const polling = live.client({ wsUrl: `ws://127.0.0.1:${closedPort}/graphql` });
    const task = await polling.submit({ kind: 'poll_ok' });
    const log = progressLog();
    const done = polling.waitFor(task.id, { onProgress: log.onProgress });
    await log.reached((t) => t.status === 'PENDING');
    const claimed = await live.driver.claim('poll_ok');
    await log.reached((t) => t.status === 'PROCESSING');
    await live.driver.progress(claimed, 80, 'Almost');
    await log.reached((t) => t.progress === 80);
    await live.driver.complete(claimed, { image_url: 'i' });
    expect(await done).toMatchObject({ status: 'COMPLETED', result: { image_url: 'i' } });
    expect(log.seen.length).toBeGreaterThanOrEqual(4);
    expect(log.seen.every((s) => s.info.via === 'polling')).toBe(true);
  });

  it('polls when there is no WebSocket implementation at all', async () => {
    // null: none, even on Node 22+ where a global WebSocket exists (the same path Node 20 takes with none).
    const noSocket = live.client({ webSocketImpl: null });
    const task = await noSocket.submit({ kind: 'poll_nows' });
    const log = progressLog();
    const done = noSocket.waitFor(task.id, { onProgress: log.onProgress });
    await log.reached((t) => t.status === 'PENDING');
    await live.driver.fail(await live.driver.claim('poll_nows'), { type: 'ImageError', message: 'bad prompt', retryable: false });
    await expect(done).rejects.toBeInstanceOf(TaskFailedError);
    expect(log.seen.length).toBeGreaterThan(0);
    expect(log.seen.every((s) => s.info.via === 'polling')).toBe(true);
  });

  it('says why watch cannot subscribe when there is no WebSocket implementation', async () => {
    const noSocket = live.client({ webSocketImpl: null });
    const task = await noSocket.submit({ kind: 'watch_nows' });
    const watching = noSocket.watch(task.id)[Symbol.asyncIterator]();
    await expect(watching.next()).rejects.toThrow(/no WebSocket implementation: pass webSocketImpl/);
  });

  const globalSocket = (globalThis as { WebSocket?: unknown }).WebSocket;

  it.runIf(globalSocket !== undefined)('uses the runtime global WebSocket when none is passed (Node 22 and later)', async () => {
    const defaults = live.client({ webSocketImpl: undefined });
    const task = await defaults.submit({ kind: 'ws_global' });
    const log = progressLog();
    const done = defaults.waitFor(task.id, { onProgress: log.onProgress });
    await log.reached((t) => t.status === 'PENDING');
    await live.driver.complete(await live.driver.claim('ws_global'), { ok: true });
    expect((await done).result).toEqual({ ok: true });
    expect(log.seen.map((s) => s.info.via)).toContain('subscription');
    expect(log.seen.map((s) => s.info.via)).not.toContain('polling');
  });

  it.runIf(globalSocket === undefined)('polls when none is passed and the runtime has no global WebSocket (Node 20)', async () => {
    const defaults = live.client({ webSocketImpl: undefined });
    const task = await defaults.submit({ kind: 'ws_none' });
    const log = progressLog();
    const done = defaults.waitFor(task.id, { onProgress: log.onProgress });
    await log.reached((t) => t.status === 'PENDING');
    await live.driver.complete(await live.driver.claim('ws_none'), { ok: true });
    expect((await done).result).toEqual({ ok: true });
    expect(log.seen.every((s) => s.info.via === 'polling')).toBe(true);
  });

  it('reports a stall after the configured number of unchanged polls', async () => {
    const closedPort = await freePort();
    const polling = live.client({ wsUrl: `ws://127.0.0.1:${closedPort}/graphql` });
    const task = await polling.submit({ kind: 'poll_stall' });
    const stalls: { task: Task; info: StallInfo }[] = [];
    let stalled!: () => void;
    const firstStall = new Promise<void>((resolve) => (stalled = resolve));
    const done = polling.waitFor(task.id, {
      stall: { after: 3 },
      onStalled: (t, info) => {
        stalls.push({ task: t, info });
        stalled();
      },
    });
    await firstStall;
    expect(stalls).toHaveLength(1);
    expect(stalls[0]!.task.status).toBe('PENDING');
    expect(stalls[0]!.info.checks).toBe(3);
    await live.driver.complete(await live.driver.claim('poll_stall'), null);
    expect((await done).result).toBeNull();
  });

  it('fails with a connection error when neither socket nor HTTP can reach the server', async () => {
    const port = await freePort();
    const offline = live.client({ url: `http://127.0.0.1:${port}/graphql` });
    await expect(offline.waitFor('vid_whatever')).rejects.toBeInstanceOf(TasklaneConnectionError);
  });
});

describe('stall over the subscription', () => {
  it('reports a stall when no update arrives for the configured number of intervals', async () => {
    const task = await client.submit({ kind: 'sub_stall' });
    let reported: StallInfo | undefined;
    let stalled!: () => void;
    const firstStall = new Promise<void>((resolve) => (stalled = resolve));
    const done = client.waitFor(task.id, {
      stall: { after: 2, intervalMs: 50 },
      onStalled: (_task, info) => {
        reported = info;
        stalled();
      },
    });
    await firstStall;
    expect(reported?.checks).toBe(2);
    // Handled before the cancel is sent: the cancellation event can reach the subscription before
    // the cancel's own answer does, and a rejection nobody holds yet is reported as unhandled.
    const cancelled = expect(done).rejects.toBeInstanceOf(TaskCancelledError);
    await client.cancel(task.id);
    await cancelled;
  });
});

describe('waitForAll', () => {
  it('resolves with every completed task in the order of the ids', async () => {
    const a = await client.submit({ kind: 'all_a' });
    const b = await client.submit({ kind: 'all_b' });
    const done = client.waitForAll([a.id, b.id]);
    await live.driver.complete(await live.driver.claim('all_b'), 'second');
    await live.driver.complete(await live.driver.claim('all_a'), 'first');
    const results = await done;
    expect(results.map((t) => [t.id, t.result])).toEqual([
      [a.id, 'first'],
      [b.id, 'second'],
    ]);
  });

  it('rejects with the first failure', async () => {
    const a = await client.submit({ kind: 'all_fa' });
    const b = await client.submit({ kind: 'all_fb' });
    // Observed from the start: it may reject while the test is still driving the task.
    const done = client.waitForAll([a.id, b.id]).catch((e: unknown) => e);
    await live.driver.fail(await live.driver.claim('all_fb'), { type: 'Boom', message: 'it broke', retryable: false });
    const error = (await done) as TaskFailedError;
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error.task.id).toBe(b.id);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerStore } from '@tasklane/db';
import { startRestHarness, uniqueKind, type RestHarness } from './rest-harness.ts';

let h: RestHarness;
beforeAll(async () => {
  h = await startRestHarness();
});
afterAll(async () => {
  await h.close();
});

async function submit(kind: string, extra: Record<string, unknown> = {}): Promise<{ id: string; etag: string }> {
  const response = await fetch(`${h.baseUrl}/api/v1/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind, ...extra }),
  });
  expect(response.status).toBe(202);
  const body = (await response.json()) as { task_id: string };
  return { id: body.task_id, etag: response.headers.get('etag')! };
}

function get(id: string, query = '', headers: Record<string, string> = {}) {
  return fetch(`${h.baseUrl}/api/v1/tasks/${id}${query}`, { headers });
}

/** Resolves once the server follows the task (a long poll is parked), without guessing a delay. */
async function untilFollowed(): Promise<void> {
  while (h.ctx.feed.size.tasks === 0) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('ETag and If-None-Match', () => {
  it('tags each version and answers 304 without a body while the tag is current', async () => {
    const kind = uniqueKind('etag');
    const { id, etag } = await submit(kind);
    expect(etag).toBe(`"${id}-v1"`);
    const first = await get(id);
    expect(first.headers.get('etag')).toBe(etag);
    expect(first.headers.get('cache-control')).toBe('no-cache');

    const notModified = await get(id, '', { 'if-none-match': etag });
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe('');
    expect(notModified.headers.get('etag')).toBe(etag);
    // Weak comparison and lists, as RFC 9110 asks of If-None-Match.
    expect((await get(id, '', { 'if-none-match': `"other", W/${etag}` })).status).toBe(304);
    expect((await get(id, '', { 'if-none-match': '*' })).status).toBe(304);

    await h.worker.claim(kind);
    const changed = await get(id, '', { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).toBe(`"${id}-v2"`);
    expect(((await changed.json()) as { status: string }).status).toBe('processing');
  });
});

describe('Retry-After', () => {
  it('suggests 5 s for a queued task, 3/5/2 s by progress while processing, and nothing once finished', async () => {
    const kind = uniqueKind('ra');
    const { id } = await submit(kind);
    expect((await get(id)).headers.get('retry-after')).toBe('5');
    await h.worker.claim(kind);
    expect((await get(id)).headers.get('retry-after')).toBe('3');
    await h.worker.progress(id, 50);
    expect((await get(id)).headers.get('retry-after')).toBe('5');
    await h.worker.progress(id, 90);
    expect((await get(id)).headers.get('retry-after')).toBe('2');
    await h.worker.complete(id, null);
    const done = await get(id);
    expect(done.status).toBe(200);
    expect(done.headers.get('retry-after')).toBeNull();
  });

  it('points a task waiting for its retry at the time it may run again', async () => {
    const kind = uniqueKind('rab');
    const { id } = await submit(kind, { max_attempts: 5 });
    await h.worker.claim(kind);
    // Attempt 1's backoff is 1-2 s by default; a longer base makes the wait visible in whole seconds.
    const slowRetries = new WorkerStore(h.ctx.pool, {
      workerId: h.worker.workerId,
      leaseSeconds: 60,
      retryBaseSeconds: 40,
    });
    const task = (await h.ctx.store.get(id))!;
    expect(await slowRetries.fail({ id, attempt: task.attempts, error: { type: 'Busy', message: 'try later', retryable: true } })).toBe('pending');
    const runAt = (await h.ctx.store.get(id))!.runAt.getTime();
    const response = await get(id);
    const after = Number(response.headers.get('retry-after'));
    // Whole seconds until run_at (20-40 s after the jitter), never the 5 s of a runnable task.
    expect(after).toBeGreaterThanOrEqual(Math.floor((runAt - Date.now()) / 1000));
    expect(after).toBeGreaterThan(5);
    expect(after).toBeLessThanOrEqual(40);
  });
});

describe('?wait long polling', () => {
  it('holds the request until the task changes, then answers the new state', async () => {
    const kind = uniqueKind('wait');
    const { id } = await submit(kind);
    let settled = false;
    const pending = get(id, '?wait=30').then((r) => {
      settled = true;
      return r;
    });
    await untilFollowed();
    expect(settled).toBe(false);
    await h.worker.claim(kind);
    const response = await pending;
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe(`"${id}-v2"`);
    expect(((await response.json()) as { status: string }).status).toBe('processing');
  });

  it('answers at once when the client\'s If-None-Match version is already stale', async () => {
    const kind = uniqueKind('wstale');
    const { id, etag } = await submit(kind);
    await h.worker.claim(kind);
    const response = await get(id, '?wait=60', { 'if-none-match': etag });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe('processing');
  });

  it('waits past the version named by If-None-Match and reports 304 when time runs out unchanged', async () => {
    const { id, etag } = await submit(uniqueKind('wtime'));
    const response = await get(id, '?wait=1', { 'if-none-match': etag });
    expect(response.status).toBe(304);
    expect(response.headers.get('etag')).toBe(etag);
    const plain = await get(id, '?wait=1');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('etag')).toBe(etag);
  });

  it('answers a finished task at once', async () => {
    const kind = uniqueKind('wdone');
    const { id } = await submit(kind);
    await h.worker.claim(kind);
    await h.worker.complete(id, { ok: true });
    const response = await get(id, '?wait=60');
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe('completed');
  });

  it('stops following when the client goes away', async () => {
    const { id } = await submit(uniqueKind('wgone'));
    const controller = new AbortController();
    const aborted = fetch(`${h.baseUrl}/api/v1/tasks/${id}?wait=60`, { signal: controller.signal }).catch((e: Error) => e.name);
    await untilFollowed();
    controller.abort();
    expect(await aborted).toBe('AbortError');
    // Without the cleanup this loop never ends and the test times out.
    while (h.ctx.feed.size.tasks > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(h.ctx.feed.size.tasks).toBe(0);
  });

  it.each(['-1', '61', '1.5', 'abc', '', '999999999999'])('refuses wait=%s with a 400 naming wait', async (value) => {
    const { id } = await submit(uniqueKind('wbad'));
    const response = await get(id, `?wait=${value}`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ type: 'https://tasklane.dev/problems/invalid-request', status: 400, field: 'wait' });
    expect(body.detail).toBe('wait: must be a whole number of seconds from 0 to 60');
  });
});

import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiProcess, type ApiProcess } from '@tasklane/client/testing';
import { createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { PythonProcess, requirePython } from './python-process.ts';

/**
 * The seed's Python polling functions and `Client.wait` on the same tasks give the same answers,
 * the seed's `submit_with_retry` works with its `wait_for_task` pointed at `Client.wait`, and
 * `Client.wait` falls back to the seed's polling when the event stream is refused.
 */

const SEED_CLIENT = fileURLToPath(new URL('../../services/api/test/rest/seed_client.py', import.meta.url));
// Three streams: one per task the comparison follows at once; the fallback test holds all three.
const SUBSCRIPTIONS = 3;

let db: TestDatabase;
let api: ApiProcess;
const scripts: PythonProcess[] = [];

beforeAll(async () => {
  requirePython();
  db = await createTestDatabase();
  api = await startApiProcess({ databaseUrl: db.url, env: { AUTH: 'off', RATE_LIMIT_SUBSCRIPTIONS: String(SUBSCRIPTIONS) } });
}, 180_000);

afterAll(async () => {
  await Promise.all(scripts.map((p) => p.kill()));
  await api?.stop();
  await db?.drop();
});

function script(...args: string[]): PythonProcess {
  const p = new PythonProcess('seed_vs_wait.py', { TASKLANE_URL: api.origin, SEED_CLIENT }, args);
  scripts.push(p);
  return p;
}

async function post(path: string, body: unknown) {
  const response = await fetch(`${api.origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await response.json()) as Record<string, any>;
}

const submit = async (kind: string) => (await post('/api/v1/tasks', { kind, input: { prompt: 'a cat' } })).task_id as string;
const claim = async (kind: string, max = 1) => (await post('/api/v1/workers/seedtest/claim', { kinds: [kind], max, wait: 30 })).tasks as { task_id: string }[];
const complete = (id: string, result: unknown) => post(`/api/v1/workers/seedtest/tasks/${id}/complete`, { attempt: 1, result, service: 'veo3' });
const body = async (id: string) => (await fetch(`${api.origin}/api/v1/tasks/${id}`)).json();

describe("the seed's polling functions and Client.wait", () => {
  it('give the same final states for a completed, a failed and a cancelled task', async () => {
    const kind = 'seed_cmp';
    const [done, failed, cancelled] = [await submit(kind), await submit(kind), await submit(kind)];
    const py = script('compare', done, failed, cancelled);
    await py.event((e) => e.event === 'waiting');
    expect((await claim(kind, 2)).map((t) => t.task_id).sort()).toEqual([done, failed].sort());
    await complete(done, { video_url: 'https://cdn.example.com/video.mp4' });
    await post(`/api/v1/workers/seedtest/tasks/${failed}/fail`, { attempt: 1, error: { type: 'VideoGenerationError', message: 'Content policy violation' } });
    await fetch(`${api.origin}/api/v1/tasks/${cancelled}`, { method: 'DELETE' });
    const { results } = await py.event((e) => e.event === 'results', 'the results');

    for (const id of [done, failed, cancelled]) {
      const final = await body(id);
      expect(results[`wait_for_task_smart ${id}`]).toEqual({ ok: final });
      expect(results[`Client.wait ${id}`]).toEqual({ ok: final });
    }
    expect(results[`wait_for_task ${done}`]).toEqual({ ok: results[`Client.wait ${done}`].ok.result });
    expect(results[`wait_for_task ${failed}`]).toEqual({ raised: 'Exception', message: "Task failed: {'type': 'VideoGenerationError', 'message': 'Content policy violation'}" });
    expect(results[`wait_for_task ${cancelled}`]).toEqual({ raised: 'Exception', message: 'Task was cancelled' });
    // Client.wait followed the event stream: it never fell back to polling here.
    expect(py.events.filter((e) => e.event === 'log' && /polling/.test(e.message))).toEqual([]);
  });

  it("the seed's submit_with_retry works with its wait_for_task pointed at Client.wait", async () => {
    const py = script('retry', 'seed_retry');
    const [task] = await claim('seed_retry');
    await complete(task!.task_id, { video_url: 'd' });
    const { results } = await py.event((e) => e.event === 'results', 'the results');
    expect(results).toEqual({ ok: (await body(task!.task_id)).result });
    expect(results.ok).toMatchObject({ service: 'veo3', result: { video_url: 'd' } });
  });

  it("Client.wait falls back to the seed's polling backoff when the event stream is refused", async () => {
    const id = await submit('seed_fallback');
    // Hold every stream the owner may have open: the next one is refused with 429.
    // Each holder keeps its Response referenced until the end: undici closes the connection of a
    // fetch whose unread Response is garbage collected, which gave the slot back mid-test.
    const holders = await Promise.all(Array.from({ length: SUBSCRIPTIONS }, async () => {
      const controller = new AbortController();
      const response = await fetch(`${api.origin}/api/v1/tasks/${id}/events`, { signal: controller.signal });
      expect(response.status).toBe(200);
      return { controller, response };
    }));
    try {
      expect((await fetch(`${api.origin}/api/v1/tasks/${id}/events`)).status).toBe(429);
      // Collect garbage now (vitest runs with --expose-gc), as a busy run would at some point: the
      // held streams must survive it.
      for (let i = 0; i < 3; i++) {
        (globalThis as { gc?: () => void }).gc?.();
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      const py = script('single', id);
      await py.event((e) => e.event === 'log' && /unavailable \(429 RATE_LIMITED\); polling/.test(e.message), 'the fallback');
      expect((await claim('seed_fallback')).map((t) => t.task_id)).toEqual([id]);
      await complete(id, { image_url: 'i' });
      const { results } = await py.event((e) => e.event === 'results', 'the results');
      expect(results).toEqual({ ok: await body(id) });
      expect(results.ok.status).toBe('completed');
    } finally {
      for (const holder of holders) holder.controller.abort();
      // Read after the abort: what keeps every Response alive to here.
      expect(holders.map((holder) => holder.response.status)).toEqual(holders.map(() => 200));
    }
  });
});

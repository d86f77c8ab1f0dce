import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '@tasklane/db/limits';
import { startRestHarness, uniqueKind, type RestHarness } from '../rest/rest-harness.ts';
import { http, startAuthServer, type AuthServer } from '../auth-harness.ts';

/** The HTTP worker protocol over a live server with AUTH=off: claims, fencing, heartbeats, release. */

let h: RestHarness;
beforeAll(async () => {
  h = await startRestHarness();
});
afterAll(async () => {
  await h?.close();
});

async function post(path: string, body: unknown, key?: string) {
  const response = await fetch(`${h.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function submit(kind: string, input: unknown = {}): Promise<string> {
  const response = await fetch(`${h.baseUrl}/api/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind, input }) });
  return ((await response.json()) as { task_id: string }).task_id;
}

const task = async (id: string) => (await h.ctx.store.get(id))!;

/** The worker's lease expiry: set by its first claim, moved by each heartbeat. */
async function leaseExpiry(worker: string): Promise<number | undefined> {
  const { rows } = await h.ctx.pool.query<{ expires_at: Date }>('select expires_at from tasklane.workers where id = $1', [`http:${worker}`]);
  return rows[0]?.expires_at.getTime();
}

async function until<T>(check: () => Promise<T | undefined | false>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('claim', () => {
  it('claims a batch of the asked kinds in one call, with what the worker needs to run them', async () => {
    const kind = uniqueKind('hw');
    const ids = [await submit(kind, { n: 1 }), await submit(kind, { n: 2 }), await submit(kind, { n: 3 })];
    const claimed = await post('/api/v1/workers/w1/claim', { kinds: [kind], max: 2 });
    expect(claimed.status).toBe(200);
    expect(claimed.body.lease_seconds).toBe(h.ctx.config.leaseSeconds);
    expect(claimed.body.tasks).toHaveLength(2);
    expect(claimed.body.tasks[0]).toEqual({
      task_id: ids[0],
      kind,
      attempt: 1,
      max_attempts: 3,
      service: null,
      input: { n: 1 },
      priority: 0,
      owner: 'default',
      created_at: expect.stringMatching(/Z$/),
    });
    expect((await task(ids[0]!)).leaseOwner).toBe('http:w1');
    expect((await task(ids[2]!)).status).toBe('pending');
  });

  it('long-polls while nothing is runnable and answers as soon as a task is submitted', async () => {
    const kind = uniqueKind('hwl');
    const claim = post('/api/v1/workers/w2/claim', { kinds: [kind], max: 5, wait: 30 });
    // Its first round has run (and found nothing): the claim is waiting on the server.
    await until(() => leaseExpiry('w2'));
    const id = await submit(kind);
    const answer = await claim;
    expect(answer.status).toBe(200);
    expect(answer.body.tasks.map((t: { task_id: string }) => t.task_id)).toEqual([id]);
  });

  it('answers an empty batch after the wait when there is nothing to claim', async () => {
    const answer = await post('/api/v1/workers/w3/claim', { kinds: [uniqueKind('hwe')], max: 1, wait: 1 });
    expect(answer).toEqual({ status: 200, body: { lease_seconds: h.ctx.config.leaseSeconds, tasks: [] } });
  });

  it.each([
    [{ max: 1 }, 'kinds'],
    [{ kinds: [], max: 1 }, 'kinds'],
    [{ kinds: ['Video'] }, 'kinds[0]'],
    [{ kinds: ['video'], max: 0 }, 'max'],
    [{ kinds: ['video'], max: 101 }, 'max'],
    [{ kinds: ['video'], wait: 61 }, 'wait'],
    [{ kinds: ['video'], frobnicate: true }, 'frobnicate'],
  ])('refuses a bad claim %j with 400 naming %s', async (body, field) => {
    const answer = await post('/api/v1/workers/w4/claim', body);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('refuses a worker id it could not keep, naming worker_id', async () => {
    const answer = await post(`/api/v1/workers/${encodeURIComponent('bad id!')}/claim`, { kinds: ['video'] });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ field: 'worker_id' });
  });
});

describe('fenced writes', () => {
  it('progress, complete and fail apply only for the worker and attempt that hold the task', async () => {
    const kind = uniqueKind('hwf');
    const id = await submit(kind);
    const [claimed] = (await post('/api/v1/workers/holder/claim', { kinds: [kind] })).body.tasks;
    expect(claimed.task_id).toBe(id);

    const progress = await post(`/api/v1/workers/holder/tasks/${id}/progress`, { attempt: 1, progress: 40, message: 'rendering' });
    expect(progress).toEqual({ status: 200, body: { task_id: id, status: 'processing' } });
    expect(await task(id)).toMatchObject({ progress: 40, message: 'rendering' });

    // Another worker, or an attempt this one does not hold: 409, and nothing changes.
    const before = await task(id);
    for (const [worker, attempt] of [['intruder', 1], ['holder', 2]] as const) {
      const late = await post(`/api/v1/workers/${worker}/tasks/${id}/complete`, { attempt, result: { stolen: true } });
      expect(late.status).toBe(409);
      expect(late.body).toMatchObject({ code: 'LEASE_LOST', task_id: id, task_status: 'processing', type: 'https://tasklane.dev/problems/lease-lost' });
      expect((await post(`/api/v1/workers/${worker}/tasks/${id}/progress`, { attempt, progress: 99 })).status).toBe(409);
    }
    expect(await task(id)).toEqual(before);

    const done = await post(`/api/v1/workers/holder/tasks/${id}/complete`, { attempt: 1, result: { video_url: 'v' }, service: 'veo3' });
    expect(done).toEqual({ status: 200, body: { task_id: id, status: 'completed' } });
    const body = (await (await fetch(`${h.baseUrl}/api/v1/tasks/${id}`)).json()) as Record<string, any>;
    expect(body).toMatchObject({ status: 'completed', result: { service: 'veo3', result: { video_url: 'v' } } });
    // Finished: a second outcome is a late write too.
    expect((await post(`/api/v1/workers/holder/tasks/${id}/fail`, { attempt: 1, error: { type: 'E', message: 'late' } })).body).toMatchObject({
      code: 'LEASE_LOST',
      task_status: 'completed',
    });
  });

  it('a retryable failure goes back to pending with backoff, a final one fails with the typed error', async () => {
    const kind = uniqueKind('hwr');
    const id = (await h.ctx.store.submit({ kind, maxAttempts: 2 })).task.id;
    await post('/api/v1/workers/f/claim', { kinds: [kind] });
    const retried = await post(`/api/v1/workers/f/tasks/${id}/fail`, { attempt: 1, error: { type: 'Flaky', message: 'try again', retryable: true }, progress: 30 });
    expect(retried.body).toEqual({ task_id: id, status: 'pending', will_retry: true });
    const pending = await task(id);
    expect(pending).toMatchObject({ status: 'pending', attempts: 1, progress: 30 });
    expect(pending.runAt.getTime()).toBeGreaterThan(Date.now());

    await h.ctx.pool.query('update tasklane.tasks set run_at = now() where id = $1', [id]);
    const [again] = (await post('/api/v1/workers/f/claim', { kinds: [kind] })).body.tasks;
    expect(again.attempt).toBe(2);
    const failed = await post(`/api/v1/workers/f/tasks/${id}/fail`, { attempt: 2, error: { type: 'ContentPolicy', message: 'rejected', retryable: true } });
    expect(failed.body).toEqual({ task_id: id, status: 'failed', will_retry: false });
    const body = (await (await fetch(`${h.baseUrl}/api/v1/tasks/${id}`)).json()) as Record<string, any>;
    expect(body).toMatchObject({ status: 'failed', error: { type: 'ContentPolicy', message: 'rejected' } });
  });

  it.each([
    [{ progress: 10 }, 'attempt'],
    [{ attempt: 1, progress: 101 }, 'progress'],
    [{ attempt: 1, progress: 'half' }, 'progress'],
  ])('refuses bad progress %j naming %s', async (body, field) => {
    const answer = await post('/api/v1/workers/x/tasks/vid_00000000000000000000000000/progress', body);
    expect(answer.status).toBe(400);
    expect(answer.body.field).toBe(field);
  });

  it.each([
    [{ attempt: 1 }, 'error'],
    [{ attempt: 1, error: { message: 'm' } }, 'error.type'],
    [{ attempt: 1, error: { type: 'T', message: 'm', retryable: 'yes' } }, 'error.retryable'],
    [{ attempt: 1, error: { type: 'T', message: 'm', stack: '' } }, 'stack'],
  ])('refuses a bad failure %j naming %s', async (body, field) => {
    const answer = await post('/api/v1/workers/x/tasks/vid_00000000000000000000000000/fail', body);
    expect(answer.status).toBe(400);
    expect(answer.body.field).toBe(field);
  });
});

describe('heartbeat and release', () => {
  it('renews the worker lease and reports held tasks that were cancelled or lost', async () => {
    const kind = uniqueKind('hwh');
    const [a, b] = [await submit(kind), await submit(kind)];
    await post('/api/v1/workers/hb/claim', { kinds: [kind], max: 2 });
    const { rows } = await h.ctx.pool.query<{ expires_at: Date }>("select expires_at from tasklane.workers where id = 'http:hb'");
    await h.ctx.store.cancel(a);
    const beat = await post('/api/v1/workers/hb/heartbeat', {
      tasks: [
        { task_id: a, attempt: 1 },
        { task_id: b, attempt: 1 },
        { task_id: b.replace(/.$/, b.endsWith('0') ? '1' : '0'), attempt: 1 },
      ],
    });
    expect(beat.status).toBe(200);
    expect(beat.body.cancelled).toEqual([a]);
    expect(beat.body.lost).toHaveLength(1);
    const after = await h.ctx.pool.query<{ expires_at: Date }>("select expires_at from tasklane.workers where id = 'http:hb'");
    expect(after.rows[0]!.expires_at.getTime()).toBeGreaterThanOrEqual(rows[0]!.expires_at.getTime());
  });

  it('a waiting heartbeat answers as soon as a held task is cancelled', async () => {
    const kind = uniqueKind('hww');
    const id = await submit(kind);
    await post('/api/v1/workers/hbw/claim', { kinds: [kind] });
    const claimed = (await leaseExpiry('hbw'))!;
    // Longer than the test's own timeout: only the cancel can end this heartbeat in time.
    const beat = post('/api/v1/workers/hbw/heartbeat', { tasks: [{ task_id: id, attempt: 1 }], wait: 60 });
    // The heartbeat has renewed the lease, found the task held, and is waiting.
    await until(async () => ((await leaseExpiry('hbw')) ?? 0) > claimed);
    await h.ctx.store.cancel(id);
    expect((await beat).body).toMatchObject({ cancelled: [id], lost: [] });
  }, 50_000);

  it('gives back, attempt unspent, a task the worker holds without knowing it: claimed over a lease ago and not listed', async () => {
    const kind = uniqueKind('hwo');
    const [lostAnswer, fresh, listed] = [await submit(kind), await submit(kind), await submit(kind)];
    await post('/api/v1/workers/orphan/claim', { kinds: [kind], max: 3 });
    // As if the first claim's answer had been lost on the way, a lease ago; the others are held knowingly or just claimed.
    await h.ctx.pool.query(`update tasklane.tasks set started_at = now() - interval '1 hour' where id = any($1)`, [[lostAnswer, listed]]);
    const beat = await post('/api/v1/workers/orphan/heartbeat', { tasks: [{ task_id: listed, attempt: 1 }] });
    expect(beat.body).toMatchObject({ cancelled: [], lost: [] });
    expect(await task(lostAnswer)).toMatchObject({ status: 'pending', attempts: 0, leaseOwner: null });
    expect(await task(fresh)).toMatchObject({ status: 'processing', leaseOwner: 'http:orphan' });
    expect(await task(listed)).toMatchObject({ status: 'processing', leaseOwner: 'http:orphan' });
  });

  it('release gives tasks back to pending without spending their attempt', async () => {
    const kind = uniqueKind('hwrel');
    const id = await submit(kind);
    await post('/api/v1/workers/rel/claim', { kinds: [kind] });
    expect((await post('/api/v1/workers/rel/release', { tasks: [{ task_id: id, attempt: 1 }] })).body).toEqual({ released: 1 });
    expect(await task(id)).toMatchObject({ status: 'pending', attempts: 0, leaseOwner: null });
    expect((await post('/api/v1/workers/rel/release', { tasks: [{ task_id: id, attempt: 1 }] })).body).toEqual({ released: 0 });
  });
});

describe('worker keys (AUTH=on)', () => {
  let server: AuthServer;
  let videoKey: string;
  let anyKindKey: string;
  beforeAll(async () => {
    server = await startAuthServer();
    const keys = new ApiKeyStore(server.ctx.pool);
    videoKey = (await keys.create({ owner: 'worker', worker: true, kinds: ['wk_video'] })).key;
    anyKindKey = (await keys.create({ owner: 'worker', worker: true })).key;
  });
  afterAll(async () => {
    await server?.close();
  });

  const claim = (key: string | undefined, kinds: string[], worker = 'k1') =>
    http(`${server.origin}/api/v1/workers/${worker}/claim`, { key, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kinds }) });

  it('claims only the kinds the key was given, across every owner', async () => {
    const task = await server.submitAs('alice', 'wk_video');
    const answer = await claim(videoKey, ['wk_video']);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).tasks.map((t: { task_id: string }) => t.task_id)).toEqual([task.id]);
    const refused = await claim(videoKey, ['wk_video', 'wk_image']);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'FORBIDDEN', detail: expect.stringContaining('may not claim wk_image') });
  });

  it("writes only what its own workers claimed: another key's worker of the same name gets 409", async () => {
    const task = await server.submitAs('bob', 'wk_any');
    expect(JSON.parse((await claim(anyKindKey, ['wk_any'], 'same')).body).tasks).toHaveLength(1);
    const intruder = await http(`${server.origin}/api/v1/workers/same/tasks/${task.id}/complete`, {
      key: videoKey,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ attempt: 1, result: {} }),
    });
    expect(intruder.status).toBe(409);
    expect((await server.ctx.store.get(task.id))!.status).toBe('processing');
  });

  it("refuses an owner's or admin key on the worker protocol with 403", async () => {
    for (const key of [server.keys.alice, server.keys.admin]) {
      const answer = await claim(key, ['wk_video']);
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'FORBIDDEN', detail: expect.stringContaining('tasklane keys create --worker') });
    }
    expect((await claim(undefined, ['wk_video'])).status).toBe(401);
  });

  it('refuses a worker key everywhere but the worker protocol', async () => {
    const task = await server.submitAs('alice', 'wk_video');
    const rest = await http(`${server.origin}/api/v1/tasks/${task.id}`, { key: videoKey });
    expect(rest.status).toBe(403);
    expect(JSON.parse(rest.body)).toMatchObject({ code: 'FORBIDDEN' });
    expect((await http(`${server.origin}/api/v1/tasks`, { key: videoKey })).status).toBe(403);
    const gql = await http(`${server.origin}/graphql`, {
      key: videoKey,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ tasks(first: 1) { edges { node { id } } } }' }),
    });
    expect(gql.status).toBe(403);
    expect(JSON.parse(gql.body).errors[0].extensions.code).toBe('FORBIDDEN');
  });
});

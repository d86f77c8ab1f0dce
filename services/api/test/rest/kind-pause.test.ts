import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTasklaneClient, TasklaneRequestError, type TasklaneClient } from '@tasklane/client';
import { createAppContext } from '../../src/create-app-context.ts';
import { buildServer } from '../../src/server.ts';
import { http, startAuthServer, type AuthServer } from '../auth-harness.ts';
import { startRestHarness, TIMESTAMP, type RestHarness } from './rest-harness.ts';

let server: AuthServer;
let admin: TasklaneClient;
let alice: TasklaneClient;

beforeAll(async () => {
  // The kinds check on: video and image are declared, anything else is unknown.
  server = await startAuthServer({ TASK_KINDS: 'video,image' });
  admin = createTasklaneClient({ url: server.origin, apiKey: server.keys.admin });
  alice = createTasklaneClient({ url: server.origin, apiKey: server.keys.alice });
}, 120_000);
afterAll(async () => {
  await admin?.close();
  await alice?.close();
  await server?.close();
});

const post = (path: string, key: string | undefined, body?: unknown) =>
  http(`${server.origin}${path}`, {
    key,
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });

async function refusal(promise: Promise<unknown>): Promise<TasklaneRequestError> {
  const error = await promise.then(
    () => expect.fail('expected a refusal'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TasklaneRequestError);
  return error as TasklaneRequestError;
}

describe('pausing and resuming a kind', () => {
  it('refuses an owner key with 403 FORBIDDEN on REST and GraphQL, and changes nothing', async () => {
    for (const action of ['pause', 'resume']) {
      const answer = await post(`/api/v1/kinds/video/${action}`, server.keys.alice);
      expect(answer.status).toBe(403);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'FORBIDDEN', status: 403, detail: expect.stringContaining('admin key') });
    }
    expect((await refusal(alice.pauseKind('video'))).code).toBe('FORBIDDEN');
    expect((await admin.queueStats()).kinds.find((k) => k.kind === 'video')).toMatchObject({ paused: false, pausedAt: null });
  });

  it('answers an unknown kind as a submission of it is answered', async () => {
    const submitted = JSON.parse((await post('/api/v1/tasks', server.keys.alice, { kind: 'vidoe', input: {} })).body) as Record<string, unknown>;
    const paused = await post('/api/v1/kinds/vidoe/pause', server.keys.admin);
    expect(paused.status).toBe(400);
    const body = JSON.parse(paused.body) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 'BAD_USER_INPUT', field: 'kind' });
    expect(body.detail).toBe(submitted.detail);
    expect(body.detail).toContain('known kinds: image, video');
    const malformed = await post('/api/v1/kinds/Not-A-Kind/pause', server.keys.admin);
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'kind' });
    expect((await refusal(admin.resumeKind('vidoe'))).code).toBe('BAD_USER_INPUT');
  });

  it('pauses with an admin key, idempotently, and shows it on every read of the kind and its pending tasks', async () => {
    const task = await server.submitAs('alice', 'video');
    const first = await post('/api/v1/kinds/video/pause', server.keys.admin);
    expect(first.status).toBe(200);
    const body = JSON.parse(first.body) as Record<string, unknown>;
    expect(body).toEqual({ kind: 'video', paused: true, paused_at: expect.stringMatching(TIMESTAMP), live_workers: 0, registered: false, declared: true, pending: 1 });
    const again = await post('/api/v1/kinds/video/pause', server.keys.admin);
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body)).toEqual(body);

    // queueStats: the state, to every caller.
    expect((await alice.queueStats()).kinds.find((k) => k.kind === 'video')).toMatchObject({ paused: true, pausedAt: expect.any(String), pending: 1 });
    expect((await alice.queueStats()).kinds.find((k) => k.kind === 'image')).toMatchObject({ paused: false });

    // The task itself: its queue place and its message, over REST and GraphQL.
    const full = JSON.parse((await http(`${server.origin}/api/v1/tasks/${task.id}?view=full`, { key: server.keys.alice })).body) as {
      message: string;
      queue: { waiting_for: string };
    };
    expect(full.queue.waiting_for).toBe('paused');
    expect(full.message).toBe('Waiting: kind video is paused');
    const listed = JSON.parse((await http(`${server.origin}/api/v1/tasks?kind=video`, { key: server.keys.alice })).body) as { task_id: string; message: string }[];
    expect(listed.find((t) => t.task_id === task.id)?.message).toBe('Waiting: kind video is paused');
    const read = await alice.get(task.id);
    expect(read.message).toBe('Waiting: kind video is paused');
    expect(read.queue?.waitingFor).toBe('paused');

    // Resumed over GraphQL: the task waits for a worker again, as before the pause.
    const resumed = await admin.resumeKind('video');
    expect(resumed).toEqual({ kind: 'video', paused: false, pausedAt: null, liveWorkers: 0, registered: false, declared: true, pending: 1 });
    expect(await admin.resumeKind('video')).toEqual(resumed);
    const after = await alice.get(task.id);
    expect(after.queue?.waitingFor).toBe('no_worker');
    expect(after.message).toContain('no live worker serves kind "video"');
  });

  it('pauses over GraphQL too, and a new API process over the same database starts with the kind paused', async () => {
    const task = await server.submitAs('alice', 'image');
    expect(await admin.pauseKind('image')).toMatchObject({ kind: 'image', paused: true, pausedAt: expect.any(String), pending: 1 });
    const ctx = await createAppContext(server.ctx.config, server.db.url);
    const app = await buildServer(ctx);
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      const restarted = createTasklaneClient({ url: `http://127.0.0.1:${port}`, apiKey: server.keys.alice });
      expect((await restarted.queueStats()).kinds.find((k) => k.kind === 'image')).toMatchObject({ paused: true });
      expect((await restarted.get(task.id)).queue?.waitingFor).toBe('paused');
      await restarted.close();
    } finally {
      await app.close();
      await ctx.close();
    }
    await admin.resumeKind('image');
  });
});

describe('with AUTH=off', () => {
  let h: RestHarness;
  beforeAll(async () => {
    h = await startRestHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lets every caller pause and resume, as every caller is an admin', async () => {
    const paused = await fetch(`${h.baseUrl}/api/v1/kinds/open_kind/pause`, { method: 'POST' });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ kind: 'open_kind', paused: true });
    const resumed = await fetch(`${h.baseUrl}/api/v1/kinds/open_kind/resume`, { method: 'POST' });
    expect(await resumed.json()).toMatchObject({ kind: 'open_kind', paused: false, paused_at: null });
  });

  it('holds for HTTP workers too: their claims skip a paused kind until it is resumed', async () => {
    const claim = async () => {
      const response = await fetch(`${h.baseUrl}/api/v1/workers/http-pause/claim`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kinds: ['http_paused'], max: 5, wait: 0 }),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { tasks: { task_id: string }[] }).tasks.map((t) => t.task_id);
    };
    const { task } = await h.ctx.store.submit({ kind: 'http_paused' }, { owner: 'default' });
    await fetch(`${h.baseUrl}/api/v1/kinds/http_paused/pause`, { method: 'POST' });
    expect(await claim()).toEqual([]);
    await fetch(`${h.baseUrl}/api/v1/kinds/http_paused/resume`, { method: 'POST' });
    expect(await claim()).toEqual([task.id]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startAuthServer, type AuthServer } from './auth-harness.ts';

let server: AuthServer;

beforeAll(async () => {
  server = await startAuthServer({ VIDEO_MAX_CONCURRENT: '2' });
});
afterAll(async () => {
  await server?.close();
});

async function gql(key: string, query: string, variables: Record<string, unknown> = {}) {
  const answer = await http(`${server.origin}/graphql`, {
    key,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return JSON.parse(answer.body) as { data?: Record<string, any>; errors?: unknown[] };
}

describe('a pending task’s queue place', () => {
  it('counts other owners’ tasks ahead as numbers only, over REST ?view=full and GraphQL, and leaves the plain GET as the seed has it', async () => {
    const alice = [await server.submitAs('alice', 'video'), await server.submitAs('alice', 'video'), await server.submitAs('alice', 'video')];
    const bob = await server.submitAs('bob', 'video');
    const mine = alice[2]!;

    const full = await http(`${server.origin}/api/v1/tasks/${mine.id}?view=full`, { key: server.keys.alice });
    expect(full.status).toBe(200);
    const body = JSON.parse(full.body) as Record<string, unknown>;
    // Fair order: alice 1, bob, alice 2, alice 3.
    expect(body['queue']).toEqual({ position: 4, ahead: 3, eta_seconds: null, waiting_for: 'no_worker' });
    expect(body['message']).toBe('Waiting: 3 ahead; no worker is running');
    expect(Object.keys(body).slice(0, 8)).toEqual(['task_id', 'status', 'progress', 'created_at', 'updated_at', 'completed_at', 'result', 'error']);
    expect(body).toMatchObject({ kind: 'video', attempts: 0, max_attempts: 3, input: {} });
    expect(full.body).not.toContain(bob.id);
    expect(full.body).not.toContain('bob');

    const plain = await http(`${server.origin}/api/v1/tasks/${mine.id}`, { key: server.keys.alice });
    expect(Object.keys(JSON.parse(plain.body) as object)).toEqual(['task_id', 'status', 'progress', 'created_at', 'updated_at', 'completed_at', 'result', 'error']);

    const answer = await gql(server.keys.alice, 'query($id: ID!) { task(id: $id) { queue { position ahead etaSeconds waitingFor } } }', { id: mine.id });
    expect(answer.data?.['task']).toEqual({ queue: { position: 4, ahead: 3, etaSeconds: null, waitingFor: 'no_worker' } });
    // Bob's own task: second in line, whatever alice queued before it.
    const bobs = await gql(server.keys.bob, 'query($id: ID!) { task(id: $id) { queue { position } } }', { id: bob.id });
    expect(bobs.data?.['task']).toEqual({ queue: { position: 2 } });
    // Someone else's task stays invisible, queue and all.
    expect((await gql(server.keys.alice, 'query($id: ID!) { task(id: $id) { queue { position } } }', { id: bob.id })).data?.['task']).toBeNull();
  });

  it("scopes queueStats' counts to the caller's own tasks unless the key is admin", async () => {
    const query = '{ queueStats { byStatus { status count } } }';
    const pending = (answer: { data?: Record<string, any> }) =>
      (answer.data?.['queueStats'].byStatus as { status: string; count: number }[]).find((s) => s.status === 'PENDING')!.count;
    const own = pending(await gql(server.keys.alice, query));
    const bobs = pending(await gql(server.keys.bob, query));
    const all = pending(await gql(server.keys.admin, query));
    expect(own).toBe(3);
    expect(bobs).toBe(1);
    expect(all).toBe(4);
  });

  it('answers a view other than full with a 400 that names the parameter', async () => {
    const task = await server.submitAs('alice', 'image');
    const answer = await http(`${server.origin}/api/v1/tasks/${task.id}?view=everything`, { key: server.keys.alice });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'view' });
  });

  it('has no queue place once the task is no longer pending', async () => {
    const task = await server.submitAs('alice', 'audio');
    await server.ctx.store.cancel(task.id);
    const body = JSON.parse((await http(`${server.origin}/api/v1/tasks/${task.id}?view=full`, { key: server.keys.alice })).body) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'cancelled', queue: null, message: 'Task cancelled' });
  });
});

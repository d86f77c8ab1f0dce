import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTaskId, type Task } from '@tasklane/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { http, masked, socket, startAuthServer, type AuthServer } from './auth-harness.ts';

/**
 * Two owners (alice, bob) and an admin against every transport with AUTH=on. Each cross-owner
 * attempt is compared with the same attempt on an id that exists nowhere: the two answers must be
 * identical once the id itself is masked, so another owner's task cannot even be told to exist.
 */
let server: AuthServer;
let aliceTask: Task;
let bobTask: Task;
/** Same kind (so same length and prefix) as bob's task, never submitted. */
let unknownId: string;
const wsClients: WsClient[] = [];

beforeAll(async () => {
  server = await startAuthServer();
  aliceTask = await server.submitAs('alice', 'auth_iso');
  bobTask = await server.submitAs('bob', 'auth_iso');
  unknownId = newTaskId('auth_iso');
}, 120_000);
afterAll(async () => {
  for (const client of wsClients) await client.dispose();
  await server?.close();
});

const TASK_QUERY = 'query One($id: ID!) { task(id: $id) { id status } }';
const NODE_QUERY = 'query Node($id: ID!) { node(id: $id) { id } }';
const CANCEL = 'mutation Cancel($id: ID!) { cancelTask(id: $id) { success task { id status } } }';
const FOLLOW = 'subscription Follow($id: ID!) { taskUpdated(id: $id) { id status version } }';

function gqlPost(key: string | undefined, query: string, variables: Record<string, unknown> = {}, accept = 'application/graphql-response+json') {
  return http(`${server.origin}/graphql`, {
    key,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify({ query, variables }),
  });
}

function gqlGet(key: string | undefined, query: string, variables: Record<string, unknown>) {
  const params = new URLSearchParams({ query, variables: JSON.stringify(variables) });
  return http(`${server.origin}/graphql?${params}`, { key, headers: { accept: 'application/graphql-response+json' } });
}

/** graphql-ws keeps the socket open after an operation's error; read messages until `complete` or `error`. */
function graphqlWsOperation(key: string, id: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.origin.replace('http', 'ws') + '/graphql', ['graphql-transport-ws']);
    const messages: string[] = [];
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } })));
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string };
      if (message.type === 'connection_ack') {
        ws.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query: FOLLOW, variables: { id } } }));
        return;
      }
      messages.push(String(data));
      if (message.type === 'error' || message.type === 'complete') {
        ws.close(1000);
        resolve(messages);
      }
    });
    ws.on('close', (code) => resolve([...messages, `closed ${code}`]));
  });
}
/** Every way of reaching one task by id, as the whole answer (status, headers, body or close frame). */
const PROBES: Record<string, (key: string, id: string) => Promise<unknown>> = {
  'REST GET': (key, id) => http(`${server.origin}/api/v1/tasks/${id}`, { key }),
  'REST GET long-poll': (key, id) => http(`${server.origin}/api/v1/tasks/${id}?wait=5`, { key }),
  'REST DELETE': (key, id) => http(`${server.origin}/api/v1/tasks/${id}`, { key, method: 'DELETE' }),
  'REST SSE events': (key, id) => http(`${server.origin}/api/v1/tasks/${id}/events`, { key, headers: { accept: 'text/event-stream' } }),
  'GraphQL POST task': (key, id) => gqlPost(key, TASK_QUERY, { id }),
  'GraphQL GET task': (key, id) => gqlGet(key, TASK_QUERY, { id }),
  'GraphQL POST node': (key, id) => gqlPost(key, NODE_QUERY, { id }),
  'GraphQL cancelTask': (key, id) => gqlPost(key, CANCEL, { id }),
  'GraphQL SSE taskUpdated': (key, id) => gqlPost(key, FOLLOW, { id }, 'text/event-stream'),
  'graphql-ws taskUpdated': (key, id) => graphqlWsOperation(key, id),
  '/ws/tasks header': (key, id) => socket(`${server.origin.replace('http', 'ws')}/ws/tasks/${id}`, { headers: { authorization: `Bearer ${key}` } }),
  '/ws/tasks first message': (key, id) =>
    socket(`${server.origin.replace('http', 'ws')}/ws/tasks/${id}`, { send: [{ authorization: `Bearer ${key}` }] }),
};


describe('another owner’s task answers exactly like an unknown id', () => {
  it.each(Object.keys(PROBES))('%s', async (name) => {
    const probe = PROBES[name]!;
    const crossOwner = await probe(server.keys.alice, bobTask.id);
    const unknown = await probe(server.keys.alice, unknownId);
    expect(masked(crossOwner, bobTask.id)).toBe(masked(unknown, unknownId));
    // And it is a denial, not two equal successes.
    expect(JSON.stringify(unknown)).toMatch(/NOT_FOUND|4404|node\\":null/);
  });

  it('leaves the other owner’s task untouched after every cancel attempt', async () => {
    expect(await server.ctx.store.get(bobTask.id)).toMatchObject({ status: 'pending', owner: 'bob' });
  });
});

describe('the owner and an admin see the task', () => {
  it.each([
    ['alice', () => aliceTask],
    ['bob', () => bobTask],
  ] as const)('REST GET and GraphQL task(id) answer %s’s own task, and the admin’s too', async (owner, task) => {
    const id = task().id;
    for (const key of [server.keys[owner], server.keys.admin]) {
      const rest = await http(`${server.origin}/api/v1/tasks/${id}`, { key });
      expect(rest.status).toBe(200);
      expect(JSON.parse(rest.body)).toMatchObject({ task_id: id, status: 'pending' });
      const gql = await gqlPost(key, TASK_QUERY, { id });
      expect(JSON.parse(gql.body)).toEqual({ data: { task: { id, status: 'PENDING' } } });
    }
  });

  it('follows its own task on /ws/tasks with the key in the header or in the first message', async () => {
    for (const options of [{ headers: { authorization: `Bearer ${server.keys.alice}` } }, { send: [{ Authorization: `Bearer ${server.keys.alice}` }] }]) {
      const answer = await socket(`${server.origin.replace('http', 'ws')}/ws/tasks/${aliceTask.id}`, { ...options, untilMessage: true });
      expect(JSON.parse(answer.messages[0]!)).toMatchObject({ task_id: aliceTask.id, status: 'pending' });
    }
    const admin = await socket(`${server.origin.replace('http', 'ws')}/ws/tasks/${bobTask.id}`, {
      headers: { authorization: `Bearer ${server.keys.admin}` },
      untilMessage: true,
    });
    expect(JSON.parse(admin.messages[0]!)).toMatchObject({ task_id: bobTask.id });
  });
});

describe('lists, stats and submissions are per owner', () => {
  it('lists only the caller’s tasks over REST and GraphQL; the admin lists both', async () => {
    const restIds = async (key: string) => (JSON.parse((await http(`${server.origin}/api/v1/tasks?limit=1000`, { key })).body) as { task_id: string }[]).map((t) => t.task_id);
    const gqlIds = async (key: string) =>
      (JSON.parse((await gqlPost(key, '{ tasks(first: 100) { edges { node { id } } } }')).body) as { data: { tasks: { edges: { node: { id: string } }[] } } }).data.tasks.edges.map((e) => e.node.id);
    for (const ids of [restIds, gqlIds]) {
      const alice = await ids(server.keys.alice);
      expect(alice).toContain(aliceTask.id);
      expect(alice).not.toContain(bobTask.id);
      const bob = await ids(server.keys.bob);
      expect(bob).toContain(bobTask.id);
      expect(bob).not.toContain(aliceTask.id);
      expect(await ids(server.keys.admin)).toEqual(expect.arrayContaining([aliceTask.id, bobTask.id]));
    }
  });

  it('counts only the caller’s tasks in queueStats', async () => {
    await server.submitAs('bob', 'auth_bob_only');
    const stats = async (key: string) => JSON.parse((await gqlPost(key, '{ queueStats { counts { status kind count } } }')).body).data.queueStats.counts as { kind: string }[];
    expect((await stats(server.keys.alice)).map((c) => c.kind)).not.toContain('auth_bob_only');
    expect((await stats(server.keys.bob)).map((c) => c.kind)).toContain('auth_bob_only');
    expect((await stats(server.keys.admin)).map((c) => c.kind)).toContain('auth_bob_only');
  });

  it('owns a submission by the caller’s owner on REST and GraphQL, admin included', async () => {
    const rest = await http(`${server.origin}/api/v1/tasks`, {
      key: server.keys.alice,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'auth_submit' }),
    });
    expect(rest.status).toBe(202);
    const restId = (JSON.parse(rest.body) as { task_id: string }).task_id;
    const gql = JSON.parse((await gqlPost(server.keys.admin, 'mutation { submitTask(input: { kind: "auth_submit" }) { id } }')).body);
    const gqlId = gql.data.submitTask.id as string;
    expect(await server.ctx.store.get(restId)).toMatchObject({ owner: 'alice' });
    expect(await server.ctx.store.get(gqlId)).toMatchObject({ owner: 'ops' });
    expect((await http(`${server.origin}/api/v1/tasks/${restId}`, { key: server.keys.bob })).status).toBe(404);
  });

  it('keeps idempotency keys apart per owner: the same key with different bodies makes two tasks', async () => {
    const submit = (key: string, input: unknown) =>
      http(`${server.origin}/api/v1/tasks`, {
        key,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'shared-key-1' },
        body: JSON.stringify({ kind: 'auth_idem', input }),
      });
    const alice = await submit(server.keys.alice, { who: 'alice' });
    const bob = await submit(server.keys.bob, { who: 'bob' });
    expect([alice.status, bob.status]).toEqual([202, 202]);
    const aliceId = JSON.parse(alice.body).task_id as string;
    const bobId = JSON.parse(bob.body).task_id as string;
    expect(aliceId).not.toBe(bobId);
    expect(bob.headers['idempotent-replayed']).toBeUndefined();
    // Each owner's retry replays its own task.
    const retry = await submit(server.keys.alice, { who: 'alice' });
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(JSON.parse(retry.body).task_id).toBe(aliceId);
    // And over GraphQL the same key is bob's own again, not alice's conflict.
    const gql = JSON.parse(
      (await gqlPost(server.keys.bob, 'mutation($i: SubmitTaskInput!) { submitTask(input: $i) { id } }', { i: { kind: 'auth_idem', input: { who: 'bob' }, idempotencyKey: 'shared-key-1' } })).body,
    );
    expect(gql).toEqual({ data: { submitTask: { id: bobId } } });
  });
});

describe('tasksUpdated', () => {
  function watchAll(key: string, received: { id: string; status: string }[]): WsClient {
    const client = createWsClient({
      url: server.origin.replace('http', 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${key}` },
    });
    wsClients.push(client);
    client.subscribe<{ tasksUpdated: { id: string; status: string } }>(
      { query: 'subscription { tasksUpdated { id status } }' },
      { next: (result) => result.data && received.push(result.data.tasksUpdated), error: () => {}, complete: () => {} },
    );
    return client;
  }

  it('never delivers another owner’s change over graphql-ws or SSE', async () => {
    const alice: { id: string; status: string }[] = [];
    const admin: { id: string; status: string }[] = [];
    watchAll(server.keys.alice, alice);
    watchAll(server.keys.admin, admin);
    // Yoga's SSE, read as a stream for alice too.
    const sse = await fetch(`${server.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${server.keys.alice}` },
      body: JSON.stringify({ query: 'subscription { tasksUpdated { id status } }' }),
    });
    expect(sse.status).toBe(200);
    let sseText = '';
    const reader = sse.body!.getReader();
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        sseText += new TextDecoder().decode(value);
      }
    })().catch(() => {});

    // Until every subscription is live: a new task of alice's reaches all three.
    const markers = new Set<string>();
    const live = () => [...markers].some((id) => alice.some((t) => t.id === id) && admin.some((t) => t.id === id) && sseText.includes(id));
    for (let i = 0; i < 2000 && !live(); i++) {
      if (i % 20 === 0) markers.add((await server.submitAs('alice', 'auth_watch')).id);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(live()).toBe(true);

    const bobs = await server.submitAs('bob', 'auth_watch');
    await server.ctx.store.cancel(bobs.id);
    const last = await server.submitAs('alice', 'auth_watch');
    await server.ctx.store.cancel(last.id);
    // The feed hands each change to every listener in order: once alice has her later change and
    // the admin has bob's, alice's subscriptions have been offered bob's and dropped it.
    for (let i = 0; i < 4000 && !(alice.some((t) => t.id === last.id) && admin.some((t) => t.id === bobs.id) && sseText.includes(last.id)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(admin.map((t) => t.id)).toContain(bobs.id);
    expect(alice.map((t) => t.id)).toContain(last.id);
    expect(sseText).toContain(last.id);
    expect(alice.map((t) => t.id)).not.toContain(bobs.id);
    expect(sseText).not.toContain(bobs.id);
    await reader.cancel();
  });
});

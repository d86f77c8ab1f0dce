import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, submit, TASK_FIELDS, type GraphqlResponse, type TestServer } from './test-server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

function codes(response: { errors?: { extensions?: Record<string, unknown> }[] }): unknown[] {
  return (response.errors ?? []).map((e) => e.extensions?.['code']);
}

describe('submitTask', () => {
  it('queues a pending task with the given fields and defaults', async () => {
    const task = await submit(server, { kind: 'video', service: 'veo3', input: { prompt: 'a cat' }, priority: 5 });
    expect(task).toMatchObject({ kind: 'video', status: 'PENDING', progress: 0, version: 1, attempts: 0 });
    expect(task['id']).toMatch(/^vid_[0-9a-z]{26}$/);
    const read = await server.gql(`query($id: ID!) { task(id: $id) { id service input priority maxAttempts createdAt runAt startedAt } }`, {
      id: task['id'],
    });
    expect(read.data?.['task']).toMatchObject({ id: task['id'], service: 'veo3', input: { prompt: 'a cat' }, priority: 5, maxAttempts: 3, startedAt: null });
    expect(read.data?.['task'].createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('returns the same task for a repeated idempotency key with the same request', async () => {
    const input = { kind: 'image', input: { prompt: 'x', size: 2 }, idempotencyKey: 'gql-same' };
    const first = await submit(server, input);
    const again = await submit(server, { ...input, input: { size: 2, prompt: 'x' } });
    expect(again['id']).toBe(first['id']);
  });

  it('answers IDEMPOTENCY_CONFLICT for a repeated key with another request', async () => {
    await submit(server, { kind: 'image', input: { prompt: 'one' }, idempotencyKey: 'gql-conflict' });
    const response = await server.gql(`mutation { submitTask(input: { kind: "image", input: { prompt: "two" }, idempotencyKey: "gql-conflict" }) { id } }`);
    expect(codes(response)).toEqual(['IDEMPOTENCY_CONFLICT']);
    expect(response.errors?.[0]?.message).toContain('gql-conflict');
  });

  it.each([
    [{ kind: 'Video!' }, 'kind'],
    [{ kind: 'video', maxAttempts: 0 }, 'maxAttempts'],
    [{ kind: 'video', priority: 5000 }, 'priority'],
    [{ kind: 'video', service: '' }, 'service'],
  ])('answers BAD_USER_INPUT naming the field for %j', async (input, field) => {
    const response = await server.gql(`mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`, { input });
    expect(codes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0]?.extensions?.['field']).toBe(field);
    expect(response.errors?.[0]?.message).toMatch(new RegExp(`^${field}: must `));
    expect(response.data?.['submitTask']).toBeNull();
  });

  it('refuses a runAt without a time zone, saying what it expects', async () => {
    const response = await server.gql(`mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`, {
      input: { kind: 'video', runAt: '2026-01-11 10:30' },
    });
    expect(response.errors?.[0]?.message).toContain('RFC 3339');
    expect(codes(response)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('task and node', () => {
  it('answers NOT_FOUND for an unknown id, and null from node', async () => {
    const response = await server.gql(`{ task(id: "vid_00000000000000000000000000") { id } node(id: "vid_00000000000000000000000000") { id } }`);
    expect(response.data).toEqual({ task: null, node: null });
    expect(codes(response)).toEqual(['NOT_FOUND']);
    expect(response.errors?.[0]?.path).toEqual(['task']);
  });

  it('uses the task id as the Relay global id', async () => {
    const task = await submit(server, { kind: 'audio' });
    const response = await server.gql(`query($id: ID!) { node(id: $id) { __typename id ... on Task { kind status } } }`, { id: task['id'] });
    expect(response.data?.['node']).toEqual({ __typename: 'Task', id: task['id'], kind: 'audio', status: 'PENDING' });
  });

  it('masks unexpected errors and keeps their detail out of the response', async () => {
    const store = server.ctx.store;
    const original = store.getOrThrow;
    store.getOrThrow = async () => {
      throw new Error('connection to 10.0.0.7 refused (secret detail)');
    };
    try {
      const response = await server.gql(`{ task(id: "vid_x") { id } }`);
      expect(response.errors?.[0]?.message).toBe('Unexpected error.');
      expect(codes(response)).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(JSON.stringify(response)).not.toContain('secret');
    } finally {
      store.getOrThrow = original;
    }
  });
});

describe('cancelTask', () => {
  it('cancels a pending task with the seed\'s message, and again idempotently', async () => {
    const task = await submit(server, { kind: 'video' });
    const mutation = `mutation($id: ID!) { cancelTask(id: $id) { success message alreadyCancelled task { status version } } }`;
    const first = await server.gql(mutation, { id: task['id'] });
    expect(first.data?.['cancelTask']).toEqual({
      success: true,
      message: `Task ${task['id']} has been cancelled`,
      alreadyCancelled: false,
      task: { status: 'CANCELLED', version: 2 },
    });
    const again = await server.gql(mutation, { id: task['id'] });
    expect(again.data?.['cancelTask']).toMatchObject({ success: true, alreadyCancelled: true, task: { status: 'CANCELLED', version: 2 } });
  });

  it('answers TASK_NOT_CANCELLABLE for a completed task and NOT_FOUND for an unknown one', async () => {
    const task = await submit(server, { kind: 'gql_cancel_done' });
    await server.worker.complete(await server.worker.claim('gql_cancel_done'), { ok: true });
    const done = await server.gql(`mutation($id: ID!) { cancelTask(id: $id) { success } }`, { id: task['id'] });
    expect(codes(done)).toEqual(['TASK_NOT_CANCELLABLE']);
    expect(done.errors?.[0]?.message).toContain('completed');
    const unknown = await server.gql(`mutation { cancelTask(id: "vid_nope") { success } }`);
    expect(codes(unknown)).toEqual(['NOT_FOUND']);
  });
});

describe('tasks connection', () => {
  it('pages through filtered tasks with cursors, in both orders', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit(server, { kind: 'gql_page', input: { i } }))['id']);
    await submit(server, { kind: 'gql_page_other' });
    const query = `query($after: String, $order: SortOrder) {
      tasks(first: 2, after: $after, kind: ["gql_page"], status: [PENDING], order: $order) {
        edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
      }
    }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const response: GraphqlResponse = await server.gql(query, { after });
      const connection = response.data?.['tasks'];
      seen.push(...connection.edges.map((e: { node: { id: string } }) => e.node.id));
      expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1)?.cursor ?? null);
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen).toEqual(ids);
    const desc = await server.gql(query, { order: 'DESC' });
    expect(desc.data?.['tasks'].edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([ids[4], ids[3]]);
  });

  it('filters by creation time', async () => {
    const before = await submit(server, { kind: 'gql_time' });
    const read = await server.gql(`query($id: ID!) { task(id: $id) { createdAt } }`, { id: before['id'] });
    const createdAt = read.data?.['task'].createdAt as string;
    const later = await submit(server, { kind: 'gql_time' });
    const response = await server.gql(`query($t: DateTime) { tasks(kind: ["gql_time"], createdAfter: $t) { edges { node { id } } } }`, { t: createdAt });
    const ids = response.data?.['tasks'].edges.map((e: { node: { id: string } }) => e.node.id);
    // Creation times are stored to the millisecond, so the second task may share the first's.
    expect(ids).not.toContain(before['id']);
    if (ids.length) expect(ids).toEqual([later['id']]);
  });

  it('names `first` and `after` when they are wrong', async () => {
    const big = await server.gql(`{ tasks(first: 5000) { edges { cursor } } }`);
    expect(big.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'first' } });
    const bad = await server.gql(`{ tasks(after: "garbage") { edges { cursor } } }`);
    expect(bad.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
  });
});

describe('queueStats', () => {
  it('counts per status and kind and shows processing against the caps', async () => {
    const pendingVideos = (await server.gql(`{ tasks(kind: ["video"], status: [PENDING], first: 1000) { edges { cursor } } }`)).data?.['tasks'].edges.length;
    await submit(server, { kind: 'video' });
    await server.worker.claim('video');
    const response = await server.gql(`{ queueStats {
      counts { status kind count } byStatus { status count } byKind { kind count }
      totalCapacity { kind processing cap } capacity { kind processing cap } oldestPendingAgeSeconds } }`);
    const stats = response.data?.['queueStats'];
    expect(stats.totalCapacity).toEqual({ kind: null, processing: 1, cap: 10 });
    expect(stats.capacity).toEqual([
      { kind: 'image', processing: 0, cap: 3 },
      { kind: 'video', processing: 1, cap: 2 },
    ]);
    expect(stats.counts).toContainEqual({ status: 'PROCESSING', kind: 'video', count: 1 });
    expect(stats.counts).toContainEqual({ status: 'PENDING', kind: 'video', count: pendingVideos });
    expect(stats.byStatus.map((s: { status: string }) => s.status)).toEqual(['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED']);
    const total = stats.counts.reduce((sum: number, c: { count: number }) => sum + c.count, 0);
    expect(stats.byStatus.reduce((sum: number, s: { count: number }) => sum + s.count, 0)).toBe(total);
    expect(stats.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(0);
  });
});

describe('health and metrics', () => {
  it('answers /healthz and /readyz', async () => {
    expect(await (await fetch(`${server.origin}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${server.origin}/readyz`)).json()).toEqual({ status: 'ready', listening: true });
  });

  it('exports task counts from the database and request latency by route', async () => {
    await submit(server, { kind: 'gql_metrics' });
    await submit(server, { kind: 'gql_metrics' });
    const response = await fetch(`${server.origin}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('tasklane_tasks{status="pending",kind="gql_metrics"} 2');
    expect(text).toMatch(/tasklane_http_request_duration_seconds_count\{method="POST",route="\/graphql",status_code="200"\} [1-9]/);
    expect(text).toContain('tasklane_event_bus_connected 1');
    expect(text).toContain('tasklane_concurrency_cap{kind="video"} 2');
    expect(text).toMatch(/tasklane_task_attempts\{kind="gql_cancel_done"\} 1/);
  });
});

it('reads every Task field', async () => {
  const task = await submit(server, { kind: 'image' });
  const response = await server.gql(`query($id: ID!) { task(id: $id) { ${TASK_FIELDS} finishedAt completedAt updatedAt } }`, { id: task['id'] });
  expect(response.errors).toBeUndefined();
  expect(response.data?.['task']).toMatchObject({ status: 'PENDING', result: null, error: null, finishedAt: null, completedAt: null });
});

describe('requests the HTTP layer must answer at once', () => {
  it.each(['application/json', 'application/graphql-response+json', 'application/xml'])('answers a POST with an empty body (accept %s) instead of waiting for one', async (accept) => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept },
      body: '',
      signal: AbortSignal.timeout(5000),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it('answers NOT_FOUND for an id no task could have, U+0000 included, without asking the database', async () => {
    const response = await server.gql('query($id: ID!) { task(id: $id) { id } }', { id: 'vid_a\u0000b' });
    expect(codes(response)).toEqual(['NOT_FOUND']);
  });
});

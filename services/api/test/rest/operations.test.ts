import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthServer, http, type AuthServer } from '../auth-harness.ts';
import { startRestHarness, uniqueKind, type RestHarness } from './rest-harness.ts';

let h: RestHarness;

beforeAll(async () => {
  h = await startRestHarness();
});
afterAll(async () => {
  await h.close();
});

async function post(path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(h.baseUrl + path, {
    method: 'POST',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

async function graphql(query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${h.baseUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as { data?: Record<string, any>; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

async function failedTask(kind: string, metadata?: Record<string, string>): Promise<string> {
  const submitted = await post('/api/v1/tasks', { kind, input: { n: 1 }, max_attempts: 1, ...(metadata ? { metadata } : {}) });
  const id = submitted.body!.task_id as string;
  await h.worker.claim(kind);
  await h.worker.fail(id, { type: 'Boom', message: 'no', retryable: false });
  return id;
}

describe('POST /api/v1/tasks/{id}/retry', () => {
  it('answers 202 with Location and the new task in the GET shape, leaving the original failed', async () => {
    const kind = uniqueKind('rt');
    const id = await failedTask(kind);
    const res = await post(`/api/v1/tasks/${id}/retry`);
    expect(res.status).toBe(202);
    const newId = res.body!.task_id as string;
    expect(newId).not.toBe(id);
    expect(res.headers.get('location')).toBe(`/api/v1/tasks/${newId}`);
    expect(Object.keys(res.body!)).toEqual(['task_id', 'status', 'progress', 'created_at', 'updated_at', 'completed_at', 'result', 'error']);
    expect(res.body).toMatchObject({ status: 'pending', progress: 0 });
    const original = await (await fetch(`${h.baseUrl}/api/v1/tasks/${id}`)).json();
    expect(original.status).toBe('failed');
    const stored = await h.ctx.store.get(newId);
    expect(stored).toMatchObject({ kind, input: { n: 1 }, maxAttempts: 1, retriedFrom: id });
  });

  it('answers 409 with a problem that says why for a pending task and for one already retried', async () => {
    const kind = uniqueKind('rt');
    const pending = (await post('/api/v1/tasks', { kind })).body!.task_id as string;
    const res = await post(`/api/v1/tasks/${pending}/retry`);
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({
      type: 'https://tasklane.dev/problems/task-not-retryable',
      code: 'TASK_NOT_RETRYABLE',
      task_id: pending,
      task_status: 'pending',
      detail: `Task ${pending} cannot be retried because it is pending; only failed or cancelled tasks can be retried`,
    });
    const failed = await failedTask(uniqueKind('rt'));
    const first = await post(`/api/v1/tasks/${failed}/retry`);
    const second = await post(`/api/v1/tasks/${failed}/retry`);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: 'TASK_NOT_RETRYABLE', retried_as: first.body!.task_id });
  });

  it('answers 404 for an unknown id, as GET does', async () => {
    const res = await post('/api/v1/tasks/vid_00000000000000000000000000/retry');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('bulk cancel and retry', () => {
  it('cancels every match of a JSON filter and answers {matched, changed, next_cursor}', async () => {
    const kind = uniqueKind('bc');
    for (const customer of ['acme', 'acme', 'initech']) await post('/api/v1/tasks', { kind, metadata: { customer } });
    const res = await post('/api/v1/tasks/cancel', { kind: [kind], status: ['pending'], metadata: { customer: 'acme' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ matched: 2, changed: 2, next_cursor: null });
    const left = await (await fetch(`${h.baseUrl}/api/v1/tasks?kind=${kind}&status=pending`)).json();
    expect(left).toHaveLength(1);
  });

  it('goes a page at a time when a limit is given, with a cursor for the rest', async () => {
    const kind = uniqueKind('bp');
    for (let i = 0; i < 5; i++) await failedTask(kind);
    const first = await post('/api/v1/tasks/retry', { kind, limit: 3 });
    expect(first.body).toMatchObject({ matched: 3, changed: 3 });
    expect(typeof first.body!.next_cursor).toBe('string');
    // In creation order: the two failed ones left, then the first of the re-runs the first call made.
    const second = await post('/api/v1/tasks/retry', { kind, limit: 3, cursor: first.body!.next_cursor });
    expect(second.body).toMatchObject({ matched: 3, changed: 2 });
    // Then the re-runs: they match the filter but are pending, so they are not retried.
    let cursor = second.body!.next_cursor;
    let matched = 0;
    while (cursor) {
      const page = await post('/api/v1/tasks/retry', { kind, limit: 3, cursor });
      expect(page.body).toMatchObject({ changed: 0 });
      matched += page.body!.matched as number;
      cursor = page.body!.next_cursor;
    }
    expect(matched).toBe(4);
  });

  it.each([
    [{ stauts: ['failed'] }, 'stauts', 'is not a filter field'],
    [{ status: ['done'] }, 'status', '"done" is not a status'],
    [{ kind: ['Bad Kind'] }, 'kind', 'is not a kind'],
    [{ metadata: { n: 1 } }, 'metadata.n', 'must be a string'],
    [{ limit: 5000 }, 'limit', 'must be a whole number from 1 to 1000'],
    [{ created_after: 'yesterday' }, 'created_after', 'must be an RFC 3339 date-time'],
    [{ cursor: 'garbage' }, 'cursor', 'is not a cursor this server issued'],
  ])('refuses %j with 400 naming %s', async (body, field, rule) => {
    const res = await post('/api/v1/tasks/cancel', body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(res.body!.detail as string).toContain(rule);
  });
});

describe('metadata on submit and list', () => {
  it('filters the list with ?metadata.<key>=<value>, every pair matching, and keeps the list items as the contract has them', async () => {
    const kind = uniqueKind('md');
    const a = (await post('/api/v1/tasks', { kind, metadata: { customer: 'acme', tier: 'gold' } })).body!.task_id;
    await post('/api/v1/tasks', { kind, metadata: { customer: 'acme' } });
    const list = await (await fetch(`${h.baseUrl}/api/v1/tasks?kind=${kind}&metadata.customer=acme&metadata.tier=gold`)).json();
    expect(list.map((t: { task_id: string }) => t.task_id)).toEqual([a]);
    expect(Object.keys(list[0])).toEqual(['task_id', 'status', 'progress', 'created_at', 'updated_at', 'message']);
  });

  it('takes the deepObject form metadata[<key>]=<value> that clients generated from the document send', async () => {
    const kind = uniqueKind('md');
    const a = (await post('/api/v1/tasks', { kind, metadata: { customer: 'acme', tier: 'gold' } })).body!.task_id;
    await post('/api/v1/tasks', { kind, metadata: { customer: 'acme' } });
    const query = new URLSearchParams({ kind, 'metadata[customer]': 'acme', 'metadata[tier]': 'gold' });
    const list = await (await fetch(`${h.baseUrl}/api/v1/tasks?${query}`)).json();
    expect(list.map((t: { task_id: string }) => t.task_id)).toEqual([a]);
    // One pair written both ways is ambiguous: refused, not silently one of them.
    const both = await fetch(`${h.baseUrl}/api/v1/tasks?kind=${kind}&metadata.customer=acme&metadata%5Bcustomer%5D=other`);
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ code: 'BAD_USER_INPUT', field: 'metadata.customer' });
  });

  it('refuses bad metadata on submit with 400 naming the field', async () => {
    const res = await post('/api/v1/tasks', { kind: uniqueKind('md'), metadata: { customer: 42 } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'BAD_USER_INPUT', field: 'metadata.customer', detail: 'metadata.customer: must be a string' });
  });
});

describe('GraphQL', () => {
  it('submits with metadata, lists by it, re-runs with retryTask and cancels with cancelTasks', async () => {
    const kind = uniqueKind('gq');
    const submitted = await graphql('mutation($i: SubmitTaskInput!) { submitTask(input: $i) { id metadata retriedFrom } }', {
      i: { kind, metadata: { customer: 'acme' }, maxAttempts: 1 },
    });
    const id = submitted.data!.submitTask.id as string;
    expect(submitted.data!.submitTask).toEqual({ id, metadata: { customer: 'acme' }, retriedFrom: null });
    const listed = await graphql('query($m: JSON) { tasks(metadata: $m) { edges { node { id } } } }', { m: { customer: 'acme' } });
    expect(listed.data!.tasks.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(id);

    const notYet = await graphql('mutation($id: ID!) { retryTask(id: $id) { id } }', { id });
    expect(notYet.errors?.[0]?.extensions?.code).toBe('TASK_NOT_RETRYABLE');

    const cancelled = await graphql('mutation($f: BulkTaskFilter) { cancelTasks(filter: $f) { matched changed nextCursor } }', { f: { kind: [kind] } });
    expect(cancelled.data!.cancelTasks).toEqual({ matched: 1, changed: 1, nextCursor: null });
    const retried = await graphql('mutation($id: ID!) { retryTask(id: $id) { id status retriedFrom metadata } }', { id });
    expect(retried.data!.retryTask).toMatchObject({ status: 'PENDING', retriedFrom: id, metadata: { customer: 'acme' } });
  });

  it('refuses bad filters with BAD_USER_INPUT naming the field', async () => {
    const res = await graphql('mutation { retryTasks(filter: {metadata: {n: 1}}) { matched } }');
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'filter.metadata.n' } });
    const page = await graphql('mutation { cancelTasks(first: 0) { matched } }');
    expect(page.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'first' } });
  });
});

describe('with AUTH=on', () => {
  let server: AuthServer;
  beforeAll(async () => {
    server = await startAuthServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it("an owner's key cancels only its own tasks; an admin key everyone's", async () => {
    const kind = uniqueKind('ab');
    await server.submitAs('alice', kind);
    await server.submitAs('bob', kind);
    await server.submitAs('bob', kind);
    const body = JSON.stringify({ kind: [kind] });
    const headers = { 'content-type': 'application/json' };
    const alice = await http(`${server.origin}/api/v1/tasks/cancel`, { key: server.keys.alice, method: 'POST', headers, body });
    expect(alice.status).toBe(200);
    expect(JSON.parse(alice.body)).toMatchObject({ matched: 1, changed: 1 });
    const admin = await http(`${server.origin}/api/v1/tasks/cancel`, { key: server.keys.admin, method: 'POST', headers, body });
    expect(JSON.parse(admin.body)).toMatchObject({ matched: 3, changed: 2 });
  });

  it("answers another owner's task like an unknown one on retry", async () => {
    const task = await server.submitAs('bob', uniqueKind('ab'));
    await server.ctx.store.cancel(task.id);
    const res = await http(`${server.origin}/api/v1/tasks/${task.id}/retry`, { key: server.keys.alice, method: 'POST' });
    expect(res.status).toBe(404);
    const mine = await http(`${server.origin}/api/v1/tasks/${task.id}/retry`, { key: server.keys.bob, method: 'POST' });
    expect(mine.status).toBe(202);
  });
});

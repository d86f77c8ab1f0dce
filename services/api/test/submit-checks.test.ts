import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerStore } from '@tasklane/db';
import { startTestServer, type GraphqlResponse, type TestServer } from './graphql/test-server.ts';

/**
 * What every submit path refuses before anything is stored: kinds no worker serves, inputs that
 * are not JSON objects, and inputs nested deeper than MAX_INPUT_DEPTH. The server checks kinds
 * (TASK_KINDS declares one; a worker registers another), as a deployment does.
 */
let server: TestServer;
let served: WorkerStore;
beforeAll(async () => {
  server = await startTestServer({ TASK_KINDS: 'declared_kind' });
  served = new WorkerStore(server.ctx.pool, { workerId: 'submit-checks', leaseSeconds: 300, kinds: ['served_kind'] });
  await served.heartbeat([]);
});
afterAll(() => server.close());

interface Problem {
  status: number;
  code: string;
  field: string;
  detail: string;
}

async function restSubmit(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.origin}/api/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function restProblem(body: unknown): Promise<Problem> {
  const answer = await restSubmit(body);
  return { status: answer.status, code: answer.body['code'] as string, field: answer.body['field'] as string, detail: answer.body['detail'] as string };
}

const SUBMIT = 'mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id kind status message } }';

/** The one error of a GraphQL submission, as `code field: message`. */
async function gqlError(input: Record<string, unknown>): Promise<{ code: unknown; field: unknown; message: string }> {
  const response: GraphqlResponse = await server.gql(SUBMIT, { input });
  expect(response.errors).toHaveLength(1);
  const error = response.errors![0]!;
  return { code: error.extensions?.['code'], field: error.extensions?.['field'], message: error.message };
}

const UNKNOWN_KIND = /^kind: no worker serves "nope" and TASK_KINDS does not declare it; known kinds: declared_kind, served_kind$/;

describe('kinds', () => {
  it('refuses a kind no worker registered over REST, 400 naming the known kinds, and stores nothing', async () => {
    const problem = await restProblem({ kind: 'nope', input: {} });
    expect(problem).toMatchObject({ status: 400, code: 'BAD_USER_INPUT', field: 'kind' });
    expect(problem.detail).toMatch(UNKNOWN_KIND);
    const { rows } = await server.ctx.pool.query(`select 1 from tasklane.tasks where kind = 'nope'`);
    expect(rows).toEqual([]);
  });

  it('refuses it over GraphQL with BAD_USER_INPUT naming the known kinds', async () => {
    const error = await gqlError({ kind: 'nope', input: {} });
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'kind' });
    expect(error.message).toMatch(UNKNOWN_KIND);
  });

  it('accepts a kind a worker registered and one TASK_KINDS declares', async () => {
    expect((await restSubmit({ kind: 'served_kind' })).status).toBe(202);
    expect((await restSubmit({ kind: 'declared_kind' })).status).toBe(202);
  });

  it('says in the message of a pending task that no live worker serves its kind, until one does', async () => {
    const submitted = await server.gql(SUBMIT, { input: { kind: 'declared_kind' } });
    const id = submitted.data?.['submitTask'].id as string;
    const waiting = 'Task queued; no live worker serves kind "declared_kind", so it waits until one starts';
    expect(submitted.data?.['submitTask'].message).toBe(waiting);
    const list = async () => {
      const response = await fetch(`${server.origin}/api/v1/tasks?kind=declared_kind`);
      return ((await response.json()) as { task_id: string; message: string }[]).find((item) => item.task_id === id)?.message;
    };
    expect(await list()).toBe(waiting);
    // A served kind's pending task is merely queued.
    const plain = await server.gql(SUBMIT, { input: { kind: 'served_kind' } });
    expect(plain.data?.['submitTask'].message).toBe('Task queued');

    const starting = new WorkerStore(server.ctx.pool, { workerId: 'declared-worker', leaseSeconds: 300, kinds: ['declared_kind'] });
    await starting.heartbeat([]);
    try {
      // Live-worker counts are cached for a moment: wait for the change, never for a fixed time.
      const message = async () => (await server.gql('query($id: ID!) { task(id: $id) { message } }', { id })).data?.['task'].message;
      await expect.poll(message, { timeout: 30_000 }).toBe('Task queued');
      await expect.poll(list, { timeout: 30_000 }).toBe('Task queued');
    } finally {
      await starting.unregister();
    }
  });

  it('shows each kind with its live workers and pending tasks in queueStats', async () => {
    const kind = async (name: string) => {
      const response = await server.gql('{ queueStats { kinds { kind liveWorkers registered declared pending } } }');
      return (response.data?.['queueStats'].kinds as { kind: string }[]).find((k) => k.kind === name);
    };
    expect(await kind('served_kind')).toMatchObject({ liveWorkers: 1, registered: true, declared: false, pending: 2 });
    // The previous test's worker for declared_kind has stopped; the cached count catches up.
    await expect.poll(() => kind('declared_kind'), { timeout: 30_000 }).toEqual({ kind: 'declared_kind', liveWorkers: 0, registered: true, declared: true, pending: 2 });
  });
});

describe('input', () => {
  it.each([['"x"'], ['[1]'], ['5'], ['null']])('refuses input %s over REST with 400 naming input', async (input) => {
    const problem = await restProblem(`{"kind": "served_kind", "input": ${input}}`);
    expect(problem).toMatchObject({ status: 400, code: 'BAD_USER_INPUT', field: 'input' });
    expect(problem.detail).toMatch(/^input: must be a JSON object such as \{"prompt": "a cat"\}, not /);
  });

  it.each([['x'], [[1]], [5], [null]])('refuses input %j over GraphQL with BAD_USER_INPUT naming input', async (input) => {
    expect(await gqlError({ kind: 'served_kind', input })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input', message: expect.stringMatching(/^input: must be a JSON object/) });
  });

  const deep = `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`;
  const DEPTH_RULE = 'input: must nest arrays and objects at most 32 levels deep (MAX_INPUT_DEPTH)';

  it('refuses 5,000 nested arrays over REST with 400 naming the limit and the setting', async () => {
    expect(await restProblem(`{"kind": "served_kind", "input": ${deep}}`)).toMatchObject({ status: 400, code: 'BAD_USER_INPUT', field: 'input', detail: DEPTH_RULE });
  });

  it('refuses 5,000 nested arrays over GraphQL with BAD_USER_INPUT naming the limit and the setting', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: `{"query": ${JSON.stringify(SUBMIT)}, "variables": {"input": {"kind": "served_kind", "input": ${deep}}}}`,
    });
    const body = (await response.json()) as GraphqlResponse;
    expect(body.errors?.[0]).toMatchObject({ message: DEPTH_RULE, extensions: { code: 'BAD_USER_INPUT', field: 'input' } });
  });
});

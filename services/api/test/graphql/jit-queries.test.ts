import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reader, startTestServer, submit, type TestServer } from './test-server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/** Status and exact body of a POST; a document is compiled by graphql-jit from its second run on. */
async function post(query: string, variables?: Record<string, unknown>): Promise<string> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return `${response.status} ${await response.text()}`;
}

/** The first answer (Yoga's executor) and the next two (compiled) must be byte for byte the same. */
async function sameEveryTime(query: string, variables?: Record<string, unknown>): Promise<string> {
  const first = await post(query, variables);
  expect(await post(query, variables)).toBe(first);
  expect(await post(query, variables)).toBe(first);
  return first;
}

describe('queries run through graphql-jit', () => {
  it('answer a task read exactly as Yoga executes it', async () => {
    const task = await submit(server, { kind: 'jit', input: { n: 1 } });
    const answer = await sameEveryTime('query($id: ID!) { task(id: $id) { id kind status progress message input metadata createdAt version } }', { id: task['id'] });
    expect(answer).toMatch(/^200 \{"data":\{"task":\{"id":/);
  });

  it('answer each operation of a many-operation document with its own compiled query', async () => {
    const task = await submit(server, { kind: 'jit_ops', input: { n: 3 } });
    const query = 'query Kind($id: ID!) { task(id: $id) { kind } } query Status($id: ID!) { task(id: $id) { status } }';
    const ask = async (operationName: string) => {
      const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: { id: task['id'] }, operationName }) });
      return response.text();
    };
    for (let i = 0; i < 3; i++) {
      expect(await ask('Kind')).toBe('{"data":{"task":{"kind":"jit_ops"}}}');
      expect(await ask('Status')).toBe('{"data":{"task":{"status":"PENDING"}}}');
    }
  });

  it('keep field errors with their locations and order', async () => {
    const answer = await sameEveryTime('query($id: ID!) { task(id: $id) { id } }', { id: 'jit_missing' });
    expect(answer).toBe('200 {"errors":[{"message":"Task jit_missing not found","locations":[{"line":1,"column":19}],"path":["task"],"extensions":{"code":"NOT_FOUND"}}],"data":{"task":null}}');
  });

  it.each([
    ['a wrong type', 'query($d: DateTime) { tasks(createdAfter: $d) { edges { cursor } } }', { d: 'nope' }, 'RFC 3339'],
    ['a missing variable', 'query($id: ID!) { task(id: $id) { id } }', {}, 'was not provided'],
    ['an unknown enum value', 'query($s: [TaskStatus!]) { tasks(status: $s) { edges { cursor } } }', { s: ['BOGUS'] }, 'does not exist in \\"TaskStatus\\" enum'],
  ])('keep 400 and graphql-js wording for %s in variables', async (_what, query, variables, wording) => {
    const answer = await sameEveryTime(query, variables);
    expect(answer.startsWith('400 ')).toBe(true);
    expect(answer).toContain(wording);
    expect(answer).toContain('"locations"');
  });
});

describe('subscription events run through graphql-jit', () => {
  const fields = 'id kind status progress message input metadata result error { type message retryable } priority service maxAttempts runAt createdAt updatedAt startedAt finishedAt completedAt version retriedFrom attempts attemptHistory { attempt outcome worker error { message } }';

  it('carry what a query of the same version answers, key for key', async () => {
    const task = await submit(server, { kind: 'jit_events', input: { n: 2 }, metadata: { customer: 'acme' } });
    const events = reader(server.ws().iterate({ query: `subscription($id: ID!) { taskUpdated(id: $id) { ${fields} } }`, variables: { id: task['id'] } }));
    await events.next();
    const held = await server.worker.claim('jit_events');
    await server.worker.fail(held, { type: 'Boom', message: 'first try', retryable: false });
    let last = await events.next();
    while (last['status'] !== 'FAILED') last = await events.next();
    // The first run of a query document is graphql-js's own (JIT compiles from the second).
    const read = JSON.parse((await post(`query($id: ID!) { task(id: $id) { ${fields} } }`, { id: task['id'] })).slice(4)) as { data: { task: unknown } };
    expect(JSON.stringify(last)).toBe(JSON.stringify(read.data.task));
    expect(last).toMatchObject({ status: 'FAILED', attemptHistory: [{ attempt: 1 }] });
  });
});

import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHardeningServer, type HardeningServer } from './hardening-server.ts';

let server: HardeningServer;
beforeAll(async () => {
  server = await startHardeningServer();
});
afterAll(() => server?.close());

const LONG_ID = `vid_${'a'.repeat(2000)}`;

/** [what, method, path, body, status, problem members the answer must carry] */
const REST_CASES: [string, string, string, unknown, number, Record<string, unknown>][] = [
  ['a malformed id', 'GET', '/api/v1/tasks/not-an-id', undefined, 404, { code: 'NOT_FOUND', detail: 'Task not-an-id not found' }],
  ['an oversized id', 'GET', `/api/v1/tasks/${LONG_ID}`, undefined, 404, { code: 'NOT_FOUND' }],
  ['a malformed id to cancel', 'DELETE', '/api/v1/tasks/vid_%27%3B--', undefined, 404, { code: 'NOT_FOUND', success: false }],
  ['a malformed id to stream', 'GET', '/api/v1/tasks/nope/events', undefined, 404, { code: 'NOT_FOUND' }],
  ['wait above 60', 'GET', '/api/v1/tasks/vid_x?wait=61', undefined, 400, { field: 'wait' }],
  ['wait that is not a number', 'GET', '/api/v1/tasks/vid_x?wait=soon', undefined, 400, { field: 'wait' }],
  ['limit 0', 'GET', '/api/v1/tasks?limit=0', undefined, 400, { field: 'limit', rule: 'must be a whole number from 1 to 1000' }],
  ['limit above the maximum', 'GET', '/api/v1/tasks?limit=1001', undefined, 400, { field: 'limit' }],
  ['a negative limit', 'GET', '/api/v1/tasks?limit=-5', undefined, 400, { field: 'limit' }],
  ['limit given twice', 'GET', '/api/v1/tasks?limit=1&limit=2', undefined, 400, { field: 'limit', rule: 'must be given once' }],
  ['an unknown status', 'GET', '/api/v1/tasks?status=done', undefined, 400, { field: 'status' }],
  ['a malformed kind filter', 'GET', '/api/v1/tasks?kind=Video!', undefined, 400, { field: 'kind' }],
  ['an unknown order', 'GET', '/api/v1/tasks?order=up', undefined, 400, { field: 'order' }],
  ['a forged cursor', 'GET', '/api/v1/tasks?cursor=garbage', undefined, 400, { field: 'cursor' }],
  ['a non-RFC 3339 date', 'GET', '/api/v1/tasks?created_after=yesterday', undefined, 400, { field: 'created_after' }],
  ['a body that is not an object', 'POST', '/api/v1/tasks', [1, 2], 400, { field: 'body' }],
  ['a body without kind', 'POST', '/api/v1/tasks', { input: {} }, 400, { field: 'kind' }],
  ['a malformed kind', 'POST', '/api/v1/tasks', { kind: 'Video' }, 400, { field: 'kind' }],
  ['a kind of the wrong type', 'POST', '/api/v1/tasks', { kind: 7 }, 400, { field: 'kind' }],
  ['a misspelt field', 'POST', '/api/v1/tasks', { kind: 'video', priorty: 1 }, 400, { field: 'priorty' }],
  ['a priority out of range', 'POST', '/api/v1/tasks', { kind: 'video', priority: 5000 }, 400, { field: 'priority' }],
  ['a priority of the wrong type', 'POST', '/api/v1/tasks', { kind: 'video', priority: 'high' }, 400, { field: 'priority' }],
  ['max_attempts 0', 'POST', '/api/v1/tasks', { kind: 'video', max_attempts: 0 }, 400, { field: 'max_attempts' }],
  ['an empty service', 'POST', '/api/v1/tasks', { kind: 'video', service: '' }, 400, { field: 'service' }],
  ['malformed JSON', 'POST', '/api/v1/tasks', '{"kind": ', 400, { field: 'body', rule: 'must be valid JSON' }],
];

describe('REST', () => {
  it.each(REST_CASES)('answers %s with a problem naming it', async (_what, method, path, body, status, members) => {
    const response = await fetch(server.origin + path, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ status, ...members });
    if (status === 400) {
      expect(problem['code']).toBe('BAD_USER_INPUT');
      expect(String(problem['detail'])).toContain(String(members['field']));
    }
  });
});

/** [what, operation, variables, code, field (or message part)] */
const GRAPHQL_CASES: [string, string, Record<string, unknown>, string, string][] = [
  ['a malformed task id', 'query ($id: ID!) { task(id: $id) { id } }', { id: 'not-an-id' }, 'NOT_FOUND', 'Task not-an-id not found'],
  ['an oversized task id', 'query ($id: ID!) { task(id: $id) { id } }', { id: LONG_ID }, 'NOT_FOUND', 'not found'],
  ['a malformed id to cancel', 'mutation ($id: ID!) { cancelTask(id: $id) { success } }', { id: "vid_';--" }, 'NOT_FOUND', 'not found'],
  ['first 0', '{ tasks(first: 0) { edges { cursor } } }', {}, 'BAD_USER_INPUT', 'first'],
  ['first above the maximum', 'query ($first: Int) { tasks(first: $first) { edges { cursor } } }', { first: 1001 }, 'BAD_USER_INPUT', 'first'],
  ['a literal first above the maximum', '{ tasks(first: 1001) { edges { cursor } } }', {}, 'BAD_USER_INPUT', 'first'],
  ['a forged after cursor', '{ tasks(after: "garbage") { edges { cursor } } }', {}, 'BAD_USER_INPUT', 'after'],
  ['a malformed kind filter', '{ tasks(kind: ["Video!"]) { edges { cursor } } }', {}, 'BAD_USER_INPUT', 'kind'],
  ['an unknown status', '{ tasks(status: [DONE]) { edges { cursor } } }', {}, 'GRAPHQL_VALIDATION_FAILED', 'Value "DONE" does not exist in "TaskStatus" enum'],
  ['a malformed kind to submit', 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }', { input: { kind: 'Video' } }, 'BAD_USER_INPUT', 'kind'],
  ['a priority out of range', 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }', { input: { kind: 'video', priority: 5000 } }, 'BAD_USER_INPUT', 'priority'],
  ['maxAttempts 0', 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }', { input: { kind: 'video', maxAttempts: 0 } }, 'BAD_USER_INPUT', 'maxAttempts'],
  ['an empty idempotency key', 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }', { input: { kind: 'video', idempotencyKey: '' } }, 'BAD_USER_INPUT', 'idempotencyKey'],
  ['a malformed runAt', 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }', { input: { kind: 'video', runAt: 'tomorrow' } }, 'BAD_USER_INPUT', 'runAt'],
];

describe('GraphQL', () => {
  it.each(GRAPHQL_CASES)('answers %s with a 4xx-class error naming it', async (_what, query, variables, code, naming) => {
    const response = await server.post({ query, variables });
    expect(response.status).toBeLessThan(500);
    const [error] = response.body.errors as { message: string; extensions: Record<string, unknown> }[];
    expect(error!.extensions['code']).toBe(code);
    if (code === 'BAD_USER_INPUT' && error!.extensions['field'] !== undefined) expect(error!.extensions['field']).toBe(naming);
    expect(error!.message).toContain(naming);
  });

  it('refuses a malformed kind in a tasksUpdated filter over graphql-ws', async () => {
    const { results, errors } = await server.overWs('subscription { tasksUpdated(filter: { kind: ["Video!"] }) { id } }');
    const error = (results[0]?.errors ?? (errors as { message: string; extensions?: Record<string, unknown> }[]))[0];
    expect(error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'filter.kind' } });
  });
});

describe('WebSocket /ws/tasks/{id}', () => {
  it('closes with 4404 for a malformed id', async () => {
    const socket = new WebSocket(`${server.origin.replace('http', 'ws')}/ws/tasks/not-an-id`);
    const [code, reason] = await new Promise<[number, string]>((resolve) => socket.once('close', (c, r) => resolve([c, r.toString()])));
    expect(code).toBe(4404);
    expect(reason).toContain('not found');
  });
});

import type { FastifyReply, FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerDirectQuery } from '../../src/graphql/direct-query.ts';
import { createTasklaneYoga, type TasklaneYoga } from '../../src/graphql/yoga.ts';
import { http, startAuthServer, type AuthServer, type HttpAnswer } from '../auth-harness.ts';

let server: AuthServer;
let yoga: TasklaneYoga;
let taskId: string;
beforeAll(async () => {
  server = await startAuthServer();
  // The same engine the server mounts, asked through its own Fetch handler: Yoga whole.
  yoga = createTasklaneYoga(server.ctx, { logger: server.app.log });
  taskId = (await server.submitAs('alice', 'direct')).id;
});
afterAll(() => server.close());

interface Posted {
  body: string;
  headers?: Record<string, string>;
  key?: keyof AuthServer['keys'];
}

const READ = 'query Read($id: ID!) { task(id: $id) { id kind status progress message result createdAt updatedAt version } }';

/** What Yoga alone answers: status, every header it sets, and the body. */
async function yogaAnswer({ body, headers = {}, key }: Posted): Promise<HttpAnswer> {
  const all = { 'content-type': 'application/json', ...headers, ...(key ? { authorization: `Bearer ${server.keys[key]}` } : {}) };
  const response = await yoga.fetch('http://localhost/graphql', { method: 'POST', headers: all, body }, { req: { headers: all } as unknown as FastifyRequest });
  const kept: Record<string, string> = {};
  response.headers.forEach((value, name) => void (kept[name.toLowerCase()] = value));
  return { status: response.status, headers: kept, body: await response.text() };
}

/** What the server answers, with only the headers Yoga sets (Fastify adds its own to both paths). */
async function serverAnswer({ body, headers = {}, key }: Posted, yogaHeaders: Record<string, string>): Promise<HttpAnswer> {
  const answer = await http(`${server.origin}/graphql`, { method: 'POST', key: key ? server.keys[key] : undefined, headers: { 'content-type': 'application/json', ...headers }, body });
  const kept: Record<string, string> = {};
  for (const name of Object.keys(yogaHeaders)) if (answer.headers[name] !== undefined) kept[name] = answer.headers[name]!;
  return { ...answer, headers: kept };
}

/** Whether the direct path answers this request itself (else it hands it to Yoga). */
async function answeredDirectly({ body, headers = {}, key }: Posted): Promise<boolean> {
  const all = { 'content-type': 'application/json', ...headers, ...(key ? { authorization: `Bearer ${server.keys[key]}` } : {}) };
  const req = { method: 'POST', headers: all, body: Buffer.from(body) } as unknown as FastifyRequest;
  const reply = { header: () => reply } as unknown as FastifyReply;
  return (await answerDirectQuery(yoga, req, reply)) !== undefined;
}

const read = (variables: Record<string, unknown> = { id: taskId }) => JSON.stringify({ query: READ, variables });

const cases: [string, () => Posted, boolean][] = [
  ['a task read', () => ({ body: read(), key: 'alice' }), true],
  ['a task read accepting */*', () => ({ body: read(), key: 'alice', headers: { accept: '*/*' } }), true],
  ['a task read accepting application/json', () => ({ body: read(), key: 'alice', headers: { accept: 'application/json' } }), true],
  ['a task read accepting graphql-response+json', () => ({ body: read(), key: 'alice', headers: { accept: 'application/graphql-response+json' } }), true],
  ['a read with operationName, null extensions and charset', () => ({ body: JSON.stringify({ query: READ, variables: { id: taskId }, operationName: 'Read', extensions: null }), key: 'alice', headers: { 'content-type': 'application/json; charset=utf-8' } }), true],
  ['a list and the queue stats', () => ({ body: JSON.stringify({ query: '{ tasks(first: 5) { edges { node { id status } } pageInfo { hasNextPage } } queueStats { byStatus { status count } } }' }), key: 'alice' }), true],
  ['a read of another owner\'s task (NOT_FOUND)', () => ({ body: read(), key: 'bob' }), false],
  ['a read of an id that is no task id', () => ({ body: read({ id: 'nope' }), key: 'alice' }), false],
  ['no key (401 with a challenge)', () => ({ body: read() }), false],
  ['a revoked key', () => ({ body: read(), key: 'revoked' }), false],
  ['a syntax error', () => ({ body: JSON.stringify({ query: '{ task(id: ' }), key: 'alice' }), false],
  ['an unknown field', () => ({ body: JSON.stringify({ query: '{ nope }' }), key: 'alice' }), false],
  ['a missing variable', () => ({ body: read({}), key: 'alice' }), false],
  ['an unknown parameter', () => ({ body: JSON.stringify({ query: READ, variables: { id: taskId }, nope: 1 }), key: 'alice' }), false],
  ['variables that are a list', () => ({ body: JSON.stringify({ query: READ, variables: [taskId] }), key: 'alice' }), false],
  ['a batch', () => ({ body: JSON.stringify([{ query: READ, variables: { id: taskId } }]), key: 'alice' }), false],
  ['an operationName that is no operation', () => ({ body: JSON.stringify({ query: READ, variables: { id: taskId }, operationName: 'Other' }), key: 'alice' }), false],
  ['two operations and no operationName', () => ({ body: JSON.stringify({ query: `${READ} query Two { queueStats { counts { count } } }`, variables: { id: taskId } }), key: 'alice' }), false],
  ['a document over the alias limit', () => ({ body: JSON.stringify({ query: `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: queueStats { counts { count } }`).join(' ')} }` }), key: 'alice' }), false],
  ['accept: text/html (406)', () => ({ body: read(), key: 'alice', headers: { accept: 'text/html' } }), false],
  ['a body with a byte-order mark', () => ({ body: `\uFEFF${read()}`, key: 'alice' }), false],
];

describe('direct JSON queries', () => {
  it.each(cases)('answer %s exactly as Yoga does', async (_what, request, direct) => {
    const posted = request();
    const expected = await yogaAnswer(posted);
    expect(await serverAnswer(posted, expected.headers)).toEqual(expected);
    expect(await answeredDirectly(posted)).toBe(direct);
  });

  it('hand mutations to Yoga before running them, so each runs once', async () => {
    const kind = 'direct_mutation';
    const body = JSON.stringify({ query: 'mutation($kind: String!) { submitTask(input: { kind: $kind }) { id } }', variables: { kind } });
    expect(await answeredDirectly({ body, key: 'alice' })).toBe(false);
    const answer = await http(`${server.origin}/graphql`, { method: 'POST', key: server.keys.alice, headers: { 'content-type': 'application/json' }, body });
    expect(answer.status).toBe(200);
    expect((await server.ctx.store.list({ kind: [kind] })).tasks).toHaveLength(1);
  });
});

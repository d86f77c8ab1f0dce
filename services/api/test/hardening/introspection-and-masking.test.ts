import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHardeningServer, type HardeningServer } from './hardening-server.ts';

const SCHEMA_QUERY = '{ __schema { queryType { name } } }';
const DISABLED = 'GraphQL introspection has been disabled, but the requested query contained the field "__schema".';

describe('GRAPHQL_INTROSPECTION=off', () => {
  let server: HardeningServer;
  beforeAll(async () => {
    server = await startHardeningServer({ GRAPHQL_INTROSPECTION: 'off' });
  });
  afterAll(() => server?.close());

  it('refuses schema queries over HTTP with a 400 that says introspection is disabled', async () => {
    const response = await server.post({ query: SCHEMA_QUERY });
    expect(response.status).toBe(400);
    // graphql-js names every introspection field it met; the first is the entry point.
    expect(response.body.errors[0]).toEqual(expect.objectContaining({ message: DISABLED, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
    expect(response.body.data).toBeUndefined();
    const typeQuery = await server.post({ query: '{ __type(name: "Task") { name } }' });
    expect(typeQuery.status).toBe(400);
  });

  it('refuses schema queries over graphql-ws too', async () => {
    const { results, errors } = await server.overWs(SCHEMA_QUERY);
    expect(results).toEqual([]);
    expect((errors as { message: string }[])[0]?.message).toBe(DISABLED);
  });

  it('still answers __typename and ordinary queries', async () => {
    const response = await server.post({ query: '{ __typename queueStats { oldestPendingAgeSeconds } }' });
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ __typename: 'Query', queueStats: { oldestPendingAgeSeconds: null } });
  });

  it('hides field suggestions, which would rebuild the schema piece by piece', async () => {
    const response = await server.post({ query: '{ taks { id } }' });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].message).toBe('Cannot query field "taks" on type "Query". [Suggestion hidden]');
  });

  it('does not serve GraphiQL', async () => {
    const response = await fetch(`${server.origin}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.headers.get('content-type') ?? '').not.toContain('text/html');
  });
});

describe('default (AUTH=off): introspection on', () => {
  let server: HardeningServer;
  beforeAll(async () => {
    server = await startHardeningServer();
  });
  afterAll(() => server?.close());

  it('answers schema queries, suggests fields and serves GraphiQL', async () => {
    const response = await server.post({ query: SCHEMA_QUERY });
    expect(response.body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    const typo = await server.post({ query: '{ taks { id } }' });
    expect(typo.body.errors[0].message).toContain('Did you mean "task" or "tasks"?');
    const graphiql = await fetch(`${server.origin}/graphql`, { headers: { accept: 'text/html' } });
    expect(graphiql.headers.get('content-type')).toContain('text/html');
  });

  it('masks an unexpected error: neither its message nor its stack reach the client, over HTTP or graphql-ws', async () => {
    const secret = 'connection to 10.0.0.7 as admin:hunter2 failed';
    server.ctx.store.queueStats = async () => {
      throw new Error(secret);
    };
    const http = await fetch(`${server.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ queueStats { oldestPendingAgeSeconds } }' }),
    });
    const text = await http.text();
    expect(http.status).toBeLessThan(500);
    expect(JSON.parse(text).errors).toEqual([expect.objectContaining({ message: 'Unexpected error.' })]);
    for (const leak of ['hunter2', '10.0.0.7', 'stack', 'at async', '.ts:']) expect(text).not.toContain(leak);

    const ws = await server.overWs('{ queueStats { oldestPendingAgeSeconds } }');
    const wsText = JSON.stringify(ws);
    expect(ws.results).toEqual([expect.objectContaining({ errors: [expect.objectContaining({ message: 'Unexpected error.' })] })]);
    for (const leak of ['hunter2', '10.0.0.7', 'stack', 'at async', '.ts:']) expect(wsText).not.toContain(leak);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHardeningServer, type HardeningServer } from './hardening-server.ts';

const DEEP = '{ tasks { edges { node { error { type } } } } }';
const DEPTH_MESSAGE = 'Query depth limit of 4 exceeded, found 5; simplify the operation or raise GRAPHQL_MAX_DEPTH';

let server: HardeningServer;
beforeAll(async () => {
  server = await startHardeningServer({ GRAPHQL_MAX_DEPTH: '4', GRAPHQL_MAX_TOKENS: '400', MAX_BODY_BYTES: '4096' });
});
afterAll(() => server?.close());

describe('document limits on every transport', () => {
  it('answers an over-deep query over HTTP with 400 GRAPHQL_VALIDATION_FAILED naming the limit', async () => {
    const response = await server.post({ query: DEEP });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ message: DEPTH_MESSAGE, extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'GRAPHQL_MAX_DEPTH' } })]);
    expect(response.body.data).toBeUndefined();
  });

  it('refuses the same query over GET', async () => {
    const response = await fetch(`${server.origin}/graphql?query=${encodeURIComponent(DEEP)}`, { headers: { accept: 'application/graphql-response+json' } });
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].message).toBe(DEPTH_MESSAGE);
  });

  it('refuses an over-deep operation over SSE with the error as its one event', async () => {
    const response = await fetch(`${server.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: `query Deep ${DEEP}` }),
    });
    const text = await response.text();
    expect(text).toContain(DEPTH_MESSAGE);
    expect(text).not.toContain('"data"');
  });

  it('refuses an over-deep operation over graphql-ws with an error naming the limit, and keeps the socket usable', async () => {
    const refused = await server.overWs(DEEP);
    expect(refused.results).toEqual([]);
    expect(refused.errors).toEqual([expect.objectContaining({ message: DEPTH_MESSAGE })]);
    const tooManyTokens = await server.overWs(`{ ${'queueStats { oldestPendingAgeSeconds } '.repeat(100)} }`);
    expect(tooManyTokens.errors).toEqual([expect.objectContaining({ message: 'Syntax Error: Token limit of 400 exceeded; simplify the operation or raise GRAPHQL_MAX_TOKENS' })]);
    const allowed = await server.overWs('{ tasks { edges { node { id } } } }');
    expect(allowed.errors).toBeUndefined();
    expect(allowed.results).toEqual([{ data: { tasks: { edges: [] } } }]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret, parseApiKey } from '@tasklane/db/limits';
import { mintStreamToken, streamTokenValid } from '../src/auth/stream-token.ts';
import { CORS_EXPOSED_HEADERS } from '../src/cors.ts';
import { http, startAuthServer, type AuthServer } from './auth-harness.ts';

const APP = 'https://app.example.com';
const OTHER = 'https://evil.example.com';

let s: AuthServer;
beforeAll(async () => {
  s = await startAuthServer({ ALLOWED_ORIGINS: APP });
});
afterAll(async () => {
  await s?.close();
});

function preflight(path: string, method: string, requestHeaders: string, origin = APP) {
  return http(`${s.origin}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': requestHeaders },
  });
}

function list(header: string | undefined): string[] {
  return (header ?? '').split(',').map((item) => item.trim().toLowerCase()).filter((item) => item !== '').sort();
}

function corsHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('access-control-')));
}

describe('preflights', () => {
  it('answers a REST submit preflight with the path methods and the headers the submit reads, without credentials', async () => {
    const answer = await preflight('/api/v1/tasks', 'POST', 'authorization,content-type,idempotency-key');
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-origin']).toBe(APP);
    expect(list(answer.headers['access-control-allow-methods'])).toEqual(['get', 'head', 'post']);
    expect(list(answer.headers['access-control-allow-headers'])).toEqual(['authorization', 'content-type', 'idempotency-key']);
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
    expect(answer.headers.vary).toContain('Origin');
    expect(Number(answer.headers['access-control-max-age'])).toBeGreaterThan(0);
  });

  it('answers per route: a task path allows GET and DELETE, with If-None-Match for GET and no body type for DELETE', async () => {
    const id = (await s.submitAs('alice', 'video')).id;
    const get = await preflight(`/api/v1/tasks/${id}`, 'GET', 'authorization,if-none-match');
    expect(list(get.headers['access-control-allow-methods'])).toEqual(['delete', 'get', 'head']);
    expect(list(get.headers['access-control-allow-headers'])).toEqual(['authorization', 'if-none-match']);
    const remove = await preflight(`/api/v1/tasks/${id}`, 'DELETE', 'authorization');
    expect(list(remove.headers['access-control-allow-headers'])).toEqual(['authorization']);
    const events = await preflight(`/api/v1/tasks/${id}/events`, 'GET', 'authorization,last-event-id');
    expect(list(events.headers['access-control-allow-headers'])).toEqual(['authorization', 'last-event-id']);
    const token = await preflight(`/api/v1/tasks/${id}/stream-token`, 'POST', 'authorization');
    expect(list(token.headers['access-control-allow-methods'])).toEqual(['post']);
  });

  it('answers GraphQL preflights itself (one policy, not Yoga\'s), health and docs too', async () => {
    const graphql = await preflight('/graphql', 'POST', 'authorization,content-type');
    expect(graphql.status).toBe(204);
    expect(graphql.headers['access-control-allow-origin']).toBe(APP);
    expect(list(graphql.headers['access-control-allow-methods'])).toEqual(['get', 'head', 'post']);
    expect(list(graphql.headers['access-control-allow-headers'])).toEqual(
      ['apollo-require-preflight', 'authorization', 'content-type', 'graphql-require-preflight', 'x-graphql-yoga-csrf'].sort(),
    );
    for (const path of ['/readyz', '/healthz', '/metrics', '/api/v1/openapi.json', '/api/docs']) {
      const answer = await preflight(path, 'GET', 'authorization');
      expect(answer.status, path).toBe(204);
      expect(answer.headers['access-control-allow-origin'], path).toBe(APP);
    }
  });

  it('refuses a preflight from an origin not on the list with 403 and no CORS headers', async () => {
    const answer = await preflight('/api/v1/tasks', 'POST', 'authorization,content-type', OTHER);
    expect(answer.status).toBe(403);
    expect(corsHeaders(answer.headers)).toEqual({});
    const graphql = await preflight('/graphql', 'POST', 'content-type', OTHER);
    expect(graphql.status).toBe(403);
    expect(corsHeaders(graphql.headers)).toEqual({});
  });

  it('leaves a preflight for a path that does not exist to the 404', async () => {
    const answer = await preflight('/nothing-here', 'GET', 'authorization');
    expect(answer.status).toBe(404);
    expect(corsHeaders(answer.headers)).toEqual({});
  });
});

describe('responses to an allowed origin', () => {
  it('let scripts read the task headers on a submit, and the problem on a 401', async () => {
    const submitted = await http(`${s.origin}/api/v1/tasks`, {
      key: s.keys.alice,
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'video' }),
    });
    expect(submitted.status).toBe(202);
    expect(submitted.headers['access-control-allow-origin']).toBe(APP);
    expect(list(submitted.headers['access-control-expose-headers'])).toEqual(CORS_EXPOSED_HEADERS.map((h) => h.toLowerCase()).sort());
    expect(submitted.headers['access-control-allow-credentials']).toBeUndefined();
    const refused = await http(`${s.origin}/api/v1/tasks`, { headers: { origin: APP } });
    expect(refused.status).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe(APP);
  });

  it('carry the headers on a GraphQL answer exactly once and on the SSE stream', async () => {
    const graphql = await fetch(`${s.origin}/graphql`, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json', authorization: `Bearer ${s.keys.alice}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(graphql.status).toBe(200);
    expect(graphql.headers.get('access-control-allow-origin')).toBe(APP);
    const id = (await s.submitAs('alice', 'video')).id;
    const controller = new AbortController();
    const stream = await fetch(`${s.origin}/api/v1/tasks/${id}/events`, {
      headers: { origin: APP, authorization: `Bearer ${s.keys.alice}` },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('access-control-allow-origin')).toBe(APP);
    controller.abort();
  });

  it('are plain for a client that sends no Origin', async () => {
    const answer = await http(`${s.origin}/api/v1/tasks`, { key: s.keys.alice });
    expect(answer.status).toBe(200);
    expect(corsHeaders(answer.headers)).toEqual({});
  });
});

describe('stream tokens', () => {
  async function tokenFor(id: string, key = s.keys.alice) {
    return http(`${s.origin}/api/v1/tasks/${id}/stream-token`, { key, method: 'POST' });
  }

  it('open the one task\'s event stream without a key, for a minute', async () => {
    const id = (await s.submitAs('alice', 'video')).id;
    const answer = await tokenFor(id);
    expect(answer.status).toBe(201);
    expect(answer.headers['cache-control']).toBe('no-store');
    const body = JSON.parse(answer.body) as { token: string; task_id: string; expires_in: number; expires_at: string; events_url: string };
    expect(body).toMatchObject({ task_id: id, expires_in: 60, events_url: `/api/v1/tasks/${id}/events?token=${body.token}` });
    expect(body.token).toMatch(/^tlst_[0-9a-f]{16}_\d{10}_[A-Za-z0-9_-]{43}$/);
    expect(body.token).not.toContain(parseApiKey(s.keys.alice)!.secret);
    const controller = new AbortController();
    const stream = await fetch(`${s.origin}${body.events_url}`, { signal: controller.signal });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let text = '';
    while (!text.includes('event: task')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain(`"task_id":"${id}"`);
    controller.abort();
  });

  it('do not open another task\'s stream, nor any other route, and a tampered one opens nothing', async () => {
    const mine = (await s.submitAs('alice', 'video')).id;
    const other = (await s.submitAs('alice', 'video')).id;
    const { token } = JSON.parse((await tokenFor(mine)).body) as { token: string };
    const elsewhere = await http(`${s.origin}/api/v1/tasks/${other}/events?token=${token}`);
    expect(elsewhere.status).toBe(401);
    expect(JSON.parse(elsewhere.body)).toMatchObject({ code: 'UNAUTHENTICATED', detail: expect.stringContaining('stream-token') });
    expect((await http(`${s.origin}/api/v1/tasks/${mine}?token=${token}`)).status).toBe(401);
    const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    expect((await http(`${s.origin}/api/v1/tasks/${mine}/events?token=${tampered}`)).status).toBe(401);
  });

  it('are given only for tasks the key can see', async () => {
    const bobs = (await s.submitAs('bob', 'video')).id;
    expect((await tokenFor(bobs)).status).toBe(404);
    expect((await http(`${s.origin}/api/v1/tasks/${bobs}/stream-token`, { method: 'POST' })).status).toBe(401);
  });

  it('expire after their minute', () => {
    const hash = hashSecret('a secret');
    const minted = mintStreamToken('0123456789abcdef', hash, 'vid_1', 1_000_000_000_000);
    expect(streamTokenValid(minted.token, hash, 'vid_1', 1_000_000_000_000 + 59_000)).toBe(true);
    expect(streamTokenValid(minted.token, hash, 'vid_1', 1_000_000_000_000 + 61_000)).toBe(false);
    expect(streamTokenValid(minted.token, hashSecret('another key'), 'vid_1', 1_000_000_000_000)).toBe(false);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '@tasklane/db/limits';
import { authOffWarning } from '../src/auth/auth-off-warning.ts';
import { http, socket, startAuthServer, type AuthServer } from './auth-harness.ts';

let server: AuthServer;
let taskId: string;

beforeAll(async () => {
  server = await startAuthServer();
  taskId = (await server.submitAs('alice', 'auth_req')).id;
}, 120_000);
afterAll(async () => {
  await server?.close();
});

/** A key of the right shape whose id names no key. */
const UNKNOWN_KEY = `tl_0123456789abcdef_${'A'.repeat(43)}`;

/** What each failure presents: no header, a malformed one, an unknown key, a revoked key, a valid id with the wrong secret. */
function badCredentials(): [string, string | undefined, 'missing' | 'rejected'][] {
  const aliceId = server.keys.alice.slice(0, 'tl_'.length + 16);
  return [
    ['no key', undefined, 'missing'],
    ['a malformed key', 'Bearer not-a-key', 'rejected'],
    ['another scheme', `Basic ${Buffer.from('a:b').toString('base64')}`, 'rejected'],
    ['an unknown key', `Bearer ${UNKNOWN_KEY}`, 'rejected'],
    ['a revoked key', `Bearer ${server.keys.revoked}`, 'rejected'],
    ['a known id with the wrong secret', `Bearer ${aliceId}_${'B'.repeat(43)}`, 'rejected'],
  ];
}

const wsOrigin = () => server.origin.replace('http', 'ws');

describe('REST without a usable key', () => {
  const routes = () => [
    ['GET', `/api/v1/tasks/${taskId}`],
    ['GET', `/api/v1/tasks/${taskId}?wait=5`],
    ['DELETE', `/api/v1/tasks/${taskId}`],
    ['GET', '/api/v1/tasks'],
    ['POST', '/api/v1/tasks'],
    ['GET', `/api/v1/tasks/${taskId}/events`],
    ['GET', '/api/v1/no-such-route'],
  ];

  it('answers 401 problem+json with a Bearer challenge on every /api/v1 route', async () => {
    for (const [label, authorization, reason] of badCredentials()) {
      for (const [method, path] of routes()) {
        const answer = await http(server.origin + path!, {
          method: method!,
          headers: { ...(authorization ? { authorization } : {}), 'content-type': 'application/json' },
          ...(method === 'POST' ? { body: '{"kind":"auth_req"}' } : {}),
        });
        expect({ label, method, path, status: answer.status }).toEqual({ label, method, path, status: 401 });
        expect(answer.headers['www-authenticate']).toBe(reason === 'missing' ? 'Bearer realm="tasklane"' : 'Bearer realm="tasklane", error="invalid_token"');
        expect(answer.headers['content-type']).toContain('application/problem+json');
        expect(JSON.parse(answer.body)).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', type: 'https://tasklane.dev/problems/unauthenticated' });
      }
    }
    // Nothing was submitted or cancelled by any of those requests.
    expect(await server.ctx.store.get(taskId)).toMatchObject({ status: 'pending' });
    expect((await server.ctx.store.list({ kind: ['auth_req'] })).tasks).toHaveLength(1);
  });

  it('keeps health, readiness, metrics and the API documentation public', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/api/v1/openapi.json', '/api/docs']) {
      expect({ path, status: (await http(server.origin + path)).status }).toEqual({ path, status: 200 });
    }
  });
});

describe('GraphQL over HTTP and SSE without a usable key', () => {
  it('answers HTTP 401 with extensions.code UNAUTHENTICATED on GET, POST and SSE', async () => {
    for (const [label, authorization, reason] of badCredentials()) {
      const headers: Record<string, string> = authorization ? { authorization } : {};
      const post = await http(`${server.origin}/graphql`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query: `{ task(id: "${taskId}") { id } }` }),
      });
      const get = await http(`${server.origin}/graphql?query=${encodeURIComponent('{ queueStats { oldestPendingAgeSeconds } }')}`, {
        headers: { ...headers, accept: 'application/graphql-response+json' },
      });
      const sse = await http(`${server.origin}/graphql`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: `subscription { taskUpdated(id: "${taskId}") { id } }` }),
      });
      for (const [transport, answer] of [['POST', post], ['GET', get], ['SSE', sse]] as const) {
        expect({ label, transport, status: answer.status }).toEqual({ label, transport, status: 401 });
        expect(answer.headers['www-authenticate']).toContain('Bearer');
        expect(answer.body).toContain('"code":"UNAUTHENTICATED"');
        expect(answer.body).not.toContain('"data":{');
      }
      expect(reason === 'missing' ? post.body : '').not.toContain('invalid_token');
    }
  });
});

describe('graphql-ws without a usable key', () => {
  it('closes with 4401 when connection_init carries no key and 4403 when the key is bad', async () => {
    for (const [label, authorization, reason] of badCredentials()) {
      const closed = await socket(`${wsOrigin()}/graphql`, {
        protocol: 'graphql-transport-ws',
        send: [{ type: 'connection_init', payload: authorization ? { authorization } : {} }],
      });
      expect({ label, code: closed.code }).toEqual({ label, code: reason === 'missing' ? 4401 : 4403 });
      expect(closed.messages).toEqual([]);
    }
  });

  it('accepts the key as `Authorization` in the payload or, failing that, from the upgrade request', async () => {
    for (const options of [
      { send: [{ type: 'connection_init', payload: { Authorization: `Bearer ${server.keys.alice}` } }] },
      { headers: { authorization: `Bearer ${server.keys.alice}` }, send: [{ type: 'connection_init' }] },
    ]) {
      const answer = await socket(`${wsOrigin()}/graphql`, { protocol: 'graphql-transport-ws', untilMessage: true, ...options });
      expect(JSON.parse(answer.messages[0]!)).toEqual({ type: 'connection_ack' });
    }
  });
});

describe('/ws/tasks without a usable key', () => {
  it('closes with 4401 without a key and 4403 with a bad one, by header or by first message', async () => {
    for (const [label, authorization, reason] of badCredentials()) {
      const expected = reason === 'missing' ? 4401 : 4403;
      const byHeader = await socket(`${wsOrigin()}/ws/tasks/${taskId}`, {
        headers: authorization ? { authorization } : {},
        // Without a header the server waits for the key in the first message: send one without it.
        ...(authorization ? {} : { send: [{ hello: 'no key here' }] }),
      });
      expect({ label, via: 'header', code: byHeader.code }).toEqual({ label, via: 'header', code: expected });
      const byMessage = await socket(`${wsOrigin()}/ws/tasks/${taskId}`, { send: [authorization ? { authorization } : 'not json'] });
      expect({ label, via: 'message', code: byMessage.code }).toEqual({ label, via: 'message', code: expected });
      expect([...byHeader.messages, ...byMessage.messages]).toEqual([]);
    }
  });

  it('answers a malformed task id only after authentication', async () => {
    const closed = await socket(`${wsOrigin()}/ws/tasks/not-an-id`, { send: [{}] });
    expect(closed.code).toBe(4401);
  });
});

describe('revocation', () => {
  it('refuses a key revoked after use within the documented bound (5 s)', async () => {
    const store = new ApiKeyStore(server.ctx.pool);
    const { key, info } = await store.create({ owner: 'carol' });
    const get = () => http(`${server.origin}/api/v1/tasks`, { key });
    expect((await get()).status).toBe(200);
    await store.revoke(info.id);
    // The verifier reuses what it read for up to 5 s; poll until it refuses, which must happen.
    let status = 200;
    for (let i = 0; i < 1500 && status === 200; i++) {
      status = (await get()).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(401);
  });
});

describe('startup warning', () => {
  it('warns when auth is off and the server listens beyond loopback, and only then', () => {
    expect(authOffWarning({ auth: 'off', host: '0.0.0.0' })).toContain('AUTH=off while listening on 0.0.0.0');
    expect(authOffWarning({ auth: 'off', host: '10.1.2.3' })).toContain('Set AUTH=on');
    for (const host of ['127.0.0.1', '::1', 'localhost', 'LOCALHOST']) expect(authOffWarning({ auth: 'off', host })).toBeUndefined();
    expect(authOffWarning({ auth: 'on', host: '0.0.0.0' })).toBeUndefined();
  });
});

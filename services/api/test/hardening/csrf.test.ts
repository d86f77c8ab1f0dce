import { get } from 'node:http';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHardeningServer, type HardeningServer } from './hardening-server.ts';

const EVIL = 'https://evil.example';
const PARTNER = 'https://dashboard.partner.example';
const QUERY = '{ tasks(first: 1) { edges { node { id } } } }';

let server: HardeningServer;
beforeAll(async () => {
  server = await startHardeningServer({ ALLOWED_ORIGINS: `${PARTNER}, http://localhost:5173` });
});
afterAll(() => server?.close());

/** What a WebSocket handshake ends in: `open`, or the HTTP status that refused it. */
function handshake(path: string, headers: Record<string, string>, protocol?: string): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${server.origin.replace('http', 'ws')}${path}`, protocol, { headers });
    socket.once('open', () => {
      socket.close();
      resolve('open');
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', (error) => {
      if (socket.readyState !== WebSocket.CLOSED) reject(error);
    });
  });
}

async function submitTask(): Promise<string> {
  const response = await fetch(`${server.origin}/api/v1/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'csrf', input: {} }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { task_id: string }).task_id;
}

describe('GraphQL over HTTP from browsers', () => {
  it('refuses a request whose Origin is another site, with 403 FORBIDDEN naming ALLOWED_ORIGINS', async () => {
    const response = await server.post({ query: QUERY }, { origin: EVIL, 'sec-fetch-site': 'cross-site' });
    expect(response.status).toBe(403);
    expect(response.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(response.body.errors[0].message).toContain('ALLOWED_ORIGINS');
  });

  it('serves its own origin, origins in ALLOWED_ORIGINS, and clients that send no Origin', async () => {
    const cases: Record<string, string>[] = [{ origin: server.origin, 'sec-fetch-site': 'same-origin' }, { origin: PARTNER, 'sec-fetch-site': 'cross-site' }, {}];
    for (const headers of cases) {
      const response = await server.post({ query: QUERY }, headers);
      expect(response.status).toBe(200);
      expect(response.body.data.tasks.edges).toEqual([]);
    }
  });

  it('answers the allowed origin with CORS headers that let it read the response', async () => {
    const response = await fetch(`${server.origin}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: PARTNER, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(response.status).toBeLessThan(300);
    expect(response.headers.get('access-control-allow-origin')).toBe(PARTNER);
    const refused = await fetch(`${server.origin}/graphql`, { method: 'OPTIONS', headers: { origin: EVIL, 'access-control-request-method': 'POST' } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('keeps GET queries open to non-browser clients and refuses those a browser marks cross-site', async () => {
    const url = `${server.origin}/graphql?query=${encodeURIComponent(QUERY)}`;
    const plain = await fetch(url, { headers: { accept: 'application/json' } });
    expect(plain.status).toBe(200);
    const crossSite = await fetch(url, { headers: { accept: 'application/json', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' } });
    expect(crossSite.status).toBe(403);
  });

  it('lets a link from another site open GraphiQL (a top-level navigation cannot mutate)', async () => {
    // node:http, because fetch sets Sec-Fetch-Mode itself.
    const { status, contentType } = await new Promise<{ status: number; contentType: string }>((resolve, reject) => {
      const request = get(`${server.origin}/graphql`, { headers: { accept: 'text/html', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' } }, (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type']) });
      });
      request.once('error', reject);
    });
    expect(status).toBe(200);
    expect(contentType).toContain('text/html');
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
    'refuses a POST with the form body type %s, which needs no preflight, with 415',
    async (contentType) => {
      const body = contentType.startsWith('application/x-www') ? `query=${encodeURIComponent('mutation { cancelTask(id: "vid_x") { success } }')}` : JSON.stringify({ query: QUERY });
      const response = await server.post(body, { 'content-type': contentType });
      expect(response.status).toBe(415);
      expect(response.body.errors[0].message).toContain('send application/json');
    },
  );

  it('lets a form body type through when a preflight-only header shows a preflight ran', async () => {
    const response = await server.post(`query=${encodeURIComponent(QUERY)}`, {
      'content-type': 'application/x-www-form-urlencoded',
      'x-graphql-yoga-csrf': '1',
    });
    expect(response.status).toBe(200);
    expect(response.body.data.tasks.edges).toEqual([]);
  });
});

describe('REST from browsers', () => {
  it('refuses a cross-site DELETE and leaves the task alone', async () => {
    const id = await submitTask();
    const response = await fetch(`${server.origin}/api/v1/tasks/${id}`, { method: 'DELETE', headers: { origin: EVIL, 'sec-fetch-site': 'cross-site' } });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({ type: 'https://tasklane.dev/problems/forbidden', status: 403, code: 'FORBIDDEN' });
    const task = (await (await fetch(`${server.origin}/api/v1/tasks/${id}`)).json()) as { status: string };
    expect(task.status).toBe('pending');
  });

  it('refuses a cross-site form POST (text/plain, no preflight) without creating a task', async () => {
    const before = (await (await fetch(`${server.origin}/api/v1/tasks?kind=csrf_form`)).json()) as unknown[];
    const response = await fetch(`${server.origin}/api/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: EVIL, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
      body: JSON.stringify({ kind: 'csrf_form' }),
    });
    expect(response.status).toBe(403);
    const after = (await (await fetch(`${server.origin}/api/v1/tasks?kind=csrf_form`)).json()) as unknown[];
    expect(after).toEqual(before);
  });

  it('still answers same-origin browser requests', async () => {
    const id = await submitTask();
    const response = await fetch(`${server.origin}/api/v1/tasks/${id}`, { method: 'DELETE', headers: { origin: server.origin, 'sec-fetch-site': 'same-origin' } });
    expect(response.status).toBe(200);
  });
});

describe('WebSocket upgrades', () => {
  it('refuses a graphql-ws handshake from another site (cross-site WebSocket hijacking) with 403', async () => {
    expect(await handshake('/graphql', { origin: EVIL }, 'graphql-transport-ws')).toBe(403);
  });

  it('accepts graphql-ws from its own origin, an allowed origin, and clients without Origin', async () => {
    expect(await handshake('/graphql', { origin: server.origin }, 'graphql-transport-ws')).toBe('open');
    expect(await handshake('/graphql', { origin: 'http://localhost:5173' }, 'graphql-transport-ws')).toBe('open');
    expect(await handshake('/graphql', {}, 'graphql-transport-ws')).toBe('open');
  });

  it('refuses /ws/tasks/{id} from another site and accepts it from its own origin', async () => {
    const id = await submitTask();
    expect(await handshake(`/ws/tasks/${id}`, { origin: EVIL })).toBe(403);
    expect(await handshake(`/ws/tasks/${id}`, { origin: server.origin })).toBe('open');
  });
});

/** GET with a `Host` of our choosing (fetch does not let a caller set it, as a browser would not). */
function getWithHost(target: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = get(target, { headers: { host, 'sec-fetch-site': 'same-origin', origin: `http://${host}` } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

describe('DNS rebinding with AUTH=off on loopback', () => {
  it('refuses a request whose Host is another name, even when its Origin matches that Host', async () => {
    const port = new URL(server.origin).port;
    const rebound = await getWithHost(`${server.origin}/api/v1/tasks`, `rebind.example:${port}`);
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({ code: 'FORBIDDEN' });
    expect(rebound.body).toContain('loopback');
    const graphql = await getWithHost(`${server.origin}/graphql?query=%7B__typename%7D`, `rebind.example:${port}`);
    expect(graphql.status).toBe(403);
  });

  it('answers loopback names: localhost, 127.0.0.1 and [::1]', async () => {
    const port = new URL(server.origin).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `app.localhost:${port}`]) {
      expect((await getWithHost(`${server.origin}/api/v1/tasks`, host)).status).toBe(200);
    }
  });

  it('does not check Host once auth is on (keys, not the network, guard the API then)', async () => {
    const guarded = await startHardeningServer({ AUTH: 'on' });
    try {
      const port = new URL(guarded.origin).port;
      // 401, not 403: the request got past the Host check to authentication.
      expect((await getWithHost(`${guarded.origin}/api/v1/tasks`, `api.example.com:${port}`)).status).toBe(401);
    } finally {
      await guarded.close();
    }
  });
});

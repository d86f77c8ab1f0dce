import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createTasklaneClient } from '../src/index.ts';

// No server behind these: the test only looks at what the client sends.
let wss: WebSocketServer;
let wsUrl: string;
beforeAll(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => [...protocols][0] ?? false });
  await once(wss, 'listening');
  wsUrl = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/graphql`;
});
afterAll(async () => {
  for (const socket of wss.clients) socket.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
});

it('sends the API key as a Bearer header over HTTP', async () => {
  const sent: Headers[] = [];
  const fakeFetch: typeof fetch = async (_input, init) => {
    sent.push(new Headers(init?.headers));
    return Response.json({ errors: [{ message: 'Task x not found', extensions: { code: 'NOT_FOUND' } }] });
  };
  const client = createTasklaneClient({ url: 'http://127.0.0.1:9/graphql', apiKey: 'tl_secret', fetch: fakeFetch, headers: { 'x-trace': 't1' } });
  await expect(client.get('vid_x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  expect(sent[0]?.get('authorization')).toBe('Bearer tl_secret');
  expect(sent[0]?.get('x-trace')).toBe('t1');
});

it('sends the API key in connection_init over graphql-ws', async () => {
  const init = new Promise<unknown>((resolve) =>
    wss.once('connection', (socket) => socket.once('message', (data) => resolve(JSON.parse(String(data))))),
  );
  const client = createTasklaneClient({ url: wsUrl.replace('ws', 'http'), apiKey: 'tl_secret', webSocketImpl: WebSocket, reconnect: { attempts: 0 } });
  const watching = client.watch('vid_x').next().catch(() => undefined);
  expect(await init).toEqual({ type: 'connection_init', payload: { authorization: 'Bearer tl_secret' } });
  await client.close();
  await watching;
});

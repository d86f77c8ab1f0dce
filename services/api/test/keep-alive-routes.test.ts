import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from './api-server.ts';

// The shortest interval the setting allows, so that a test sees pings and a termination in seconds.
let server: ApiServer;
let taskId: string;
beforeAll(async () => {
  server = await startApiServer({ KEEPALIVE_SECONDS: '1' });
  const response = await fetch(`${server.origin}/api/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'noop' }) });
  taskId = ((await response.json()) as { task_id: string }).task_id;
});
afterAll(() => server?.close());

/** Opens a socket on `path` and resolves with how many pings it got and its close code. */
function openSocket(path: string, { autoPong, protocol, until }: { autoPong: boolean; protocol?: string; until: 'close' | number }) {
  const socket = new WebSocket(`${server.origin.replace('http', 'ws')}${path}`, protocol, { autoPong });
  let pings = 0;
  socket.on('ping', () => pings++);
  if (protocol) socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
  return new Promise<{ pings: number; code: number | undefined; open: boolean }>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', (code) => resolve({ pings, code, open: false }));
    if (until !== 'close') {
      socket.on('ping', () => {
        if (pings < until) return;
        resolve({ pings, code: undefined, open: socket.readyState === WebSocket.OPEN });
        socket.close();
      });
    }
  });
}

it('pings /ws/tasks sockets and ends one whose client leaves a ping unanswered', async () => {
  const [answering, silent] = await Promise.all([
    openSocket(`/ws/tasks/${taskId}`, { autoPong: true, until: 2 }),
    openSocket(`/ws/tasks/${taskId}`, { autoPong: false, until: 'close' }),
  ]);
  expect(answering).toEqual({ pings: 2, code: undefined, open: true });
  // Terminated without a close frame after one unanswered ping.
  expect(silent).toEqual({ pings: 1, code: 1006, open: false });
});

it('pings graphql-ws sockets and ends one whose client leaves a ping unanswered', async () => {
  const [answering, silent] = await Promise.all([
    openSocket('/graphql', { autoPong: true, protocol: 'graphql-transport-ws', until: 2 }),
    openSocket('/graphql', { autoPong: false, protocol: 'graphql-transport-ws', until: 'close' }),
  ]);
  expect(answering).toEqual({ pings: 2, code: undefined, open: true });
  expect(silent).toEqual({ pings: 1, code: 1006, open: false });
});

it('sends the SSE keep-alive comment at the same interval', async () => {
  const controller = new AbortController();
  const response = await fetch(`${server.origin}/api/v1/tasks/${taskId}/events`, { signal: controller.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while ((text.match(/: keep-alive\n\n/g) ?? []).length < 2) text += decoder.decode((await reader.read()).value, { stream: true });
  controller.abort();
  expect(text).toContain('event: task\n');
});

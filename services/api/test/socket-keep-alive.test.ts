import WebSocket from 'ws';
import { expect, it, vi } from 'vitest';
import { keepAlive } from '../src/socket-keep-alive.ts';
import { wsPairs } from './graphql/ws-pair.ts';

const INTERVAL_MS = 40;
const pair = wsPairs();
/** A server that keeps every socket alive at INTERVAL_MS, and a client; `autoPong: false` leaves pings unanswered. */
const connect = (autoPong: boolean) => pair({ client: { autoPong }, onConnection: (socket) => keepAlive(socket, INTERVAL_MS) });

it('ends a socket whose peer leaves a ping unanswered until the next one', async () => {
  const { serverSocket, client } = await connect(false);
  let pings = 0;
  client.on('ping', () => pings++);
  const [code] = await Promise.all([new Promise<number>((resolve) => client.once('close', resolve)), new Promise((resolve) => serverSocket.once('close', resolve))]);
  // Terminated without a close frame: the client sees 1006.
  expect(code).toBe(1006);
  expect(pings).toBe(1);
});

it('keeps a socket that answers its pings open, pinging it every interval', async () => {
  const { client } = await connect(true);
  let pings = 0;
  client.on('ping', () => pings++);
  let closed = false;
  client.once('close', () => (closed = true));
  while (pings < 5) await new Promise((resolve) => client.once('ping', resolve));
  expect(closed).toBe(false);
  expect(client.readyState).toBe(WebSocket.OPEN);
});

it('drops its timer when the socket closes', async () => {
  // Only intervals are faked: the sockets' own timeouts and I/O run as usual.
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  try {
    const { serverSocket, client } = await connect(true);
    expect(vi.getTimerCount()).toBe(1);
    client.close();
    await Promise.all([new Promise((resolve) => serverSocket.once('close', resolve)), new Promise((resolve) => client.once('close', resolve))]);
    expect(vi.getTimerCount()).toBe(0);
  } finally {
    vi.useRealTimers();
  }
});

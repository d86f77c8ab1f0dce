/**
 * The fanout floor: what sending one progress state to every subscriber costs on this machine
 * with nothing but `ws` on `node:http` in one process. It speaks just enough graphql-transport-ws
 * for the bench's subscriber processes (ack, subscribe → an initial `next`), keeps no database
 * and runs no GraphQL: `POST /round?progress=N` stamps `updatedAt` with the time the request
 * arrived (where the API's figure starts at the commit), builds one payload per task and writes
 * it to each of the task's sockets, the same message the API would send. Run as its own process
 * by the fanout scenario, so its latency is measured by the same subscribers the same way.
 * Plain JavaScript, run by plain `node` as the API's compiled `dist` is.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

/** @typedef {{ socket: import('ws').WebSocket; prefix: string }} Subscription `prefix`: `{"id":<operation id>,"type":"next","payload":` */

/** @type {Map<string, Set<Subscription>>} */
const byTask = new Map();
/** @type {Map<string, number>} */
const versions = new Map();

/** @param {string} taskId @param {number} progress @param {number} version @param {string} updatedAt */
function payload(taskId, progress, version, updatedAt) {
  return JSON.stringify({ data: { taskUpdated: { id: taskId, progress, version, updatedAt } } });
}

/** @param {import('ws').WebSocket} socket @param {{ id?: unknown; payload?: { variables?: { id?: unknown } } }} message */
function onSubscribe(socket, message) {
  const taskId = String(message.payload?.variables?.id ?? '');
  const subscription = { socket, prefix: `{"id":${JSON.stringify(String(message.id))},"type":"next","payload":` };
  let set = byTask.get(taskId);
  if (!set) byTask.set(taskId, (set = new Set()));
  set.add(subscription);
  versions.set(taskId, versions.get(taskId) ?? 1);
  socket.once('close', () => set.delete(subscription));
  socket.send(subscription.prefix + payload(taskId, 0, versions.get(taskId), new Date().toISOString()) + '}');
}

/** @param {number} progress */
function round(progress) {
  const updatedAt = new Date().toISOString();
  let sent = 0;
  for (const [taskId, subscriptions] of byTask) {
    const version = versions.get(taskId) + 1;
    versions.set(taskId, version);
    const body = payload(taskId, progress, version, updatedAt);
    for (const { socket, prefix } of subscriptions) {
      if (socket.readyState !== socket.OPEN) continue;
      socket.send(prefix + body + '}');
      sent++;
    }
  }
  return sent;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/health') {
    res.end('ok');
    return;
  }
  if (req.method === 'POST' && url.pathname === '/round') {
    res.end(String(round(Number(url.searchParams.get('progress')))));
    return;
  }
  res.statusCode = 404;
  res.end();
});

// The API's sockets are `ws` sockets too (through @fastify/websocket), without compression.
const wss = new WebSocketServer({ server, path: '/graphql', perMessageDeflate: false });
wss.on('connection', (socket) => {
  socket.on('message', (raw) => {
    const message = JSON.parse(raw.toString());
    if (message.type === 'connection_init') socket.send('{"type":"connection_ack"}');
    else if (message.type === 'subscribe') onSubscribe(socket, message);
  });
});

server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => {
  for (const socket of wss.clients) socket.terminate();
  server.close(() => process.exit(0));
});

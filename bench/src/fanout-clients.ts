/**
 * The subscriber side of the fanout scenario, run as child processes of the bench (`fork`), so
 * that opening and reading thousands of sockets does not share an event loop with the bench or
 * the API. Speaks graphql-transport-ws by hand on plain `ws` sockets: a full graphql-ws client
 * per socket would cost more client CPU than the server work being measured.
 *
 * Protocol with the parent (IPC messages):
 * - `open` {url, query, ids}: one socket and one subscription per id; answers `opened` once every
 *   subscription has its first message (or failed, or 30 s passed).
 * - `collect` {progress, timeoutMs}: waits until every subscriber received a state with that
 *   progress, answers `collected` with, per subscriber that did, receipt − `updatedAt` and the
 *   receipt time itself (`Date.now()`, the clock every process of the machine shares).
 * - `close`: closes every socket, answers `closed`.
 */
import WebSocket from 'ws';

export type ToClients =
  | { type: 'open'; url: string; query: string; ids: string[] }
  | { type: 'collect'; progress: number; timeoutMs: number }
  | { type: 'close' };

export type FromClients =
  | { type: 'opened'; initial: number; failed: number; firstFailure?: string }
  | { type: 'collected'; progress: number; latencies: number[]; received: number[]; missing: number; outOfOrder: number }
  | { type: 'closed' };

interface Subscriber {
  socket: WebSocket;
  query: string;
  id: string;
  /** Highest version seen: a lower or equal one after it is a delivery out of order. */
  version: number;
  gotFirst: boolean;
  failed: boolean;
}

const subscribers: Subscriber[] = [];
/** progress → latency from `updatedAt` and receipt time, per subscriber index (NaN until received). */
const receipts = new Map<number, { latencies: Float64Array; received: Float64Array }>();
let outOfOrder = 0;
let initial = 0;
let failed = 0;
let firstFailure: string | undefined;

function send(message: FromClients): void {
  process.send!(message);
}

function receiptsFor(progress: number): { latencies: Float64Array; received: Float64Array } {
  let list = receipts.get(progress);
  if (!list) {
    list = { latencies: new Float64Array(subscribers.length).fill(Number.NaN), received: new Float64Array(subscribers.length).fill(Number.NaN) };
    receipts.set(progress, list);
  }
  return list;
}

function onMessage(index: number, raw: WebSocket.RawData): void {
  const at = Date.now();
  const sub = subscribers[index]!;
  const message = JSON.parse(raw.toString()) as { type: string; payload?: { data?: { taskUpdated?: { progress: number; version: number; updatedAt: string } } } };
  if (message.type === 'connection_ack') {
    // Subscribing before the ack is a protocol violation (the server closes with 4401).
    sub.socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: sub.query, variables: { id: sub.id } } }));
    return;
  }
  if (message.type === 'next') {
    const task = message.payload?.data?.taskUpdated;
    if (!task) return;
    if (task.version <= sub.version) outOfOrder++;
    sub.version = task.version;
    if (!sub.gotFirst) {
      sub.gotFirst = true;
      initial++;
      return;
    }
    const list = receiptsFor(task.progress);
    if (Number.isNaN(list.latencies[index]!)) {
      list.latencies[index] = at - Date.parse(task.updatedAt);
      list.received[index] = at;
    }
    return;
  }
  if (message.type === 'error' || message.type === 'complete') fail(sub, `${message.type}: ${JSON.stringify(message.payload ?? null).slice(0, 300)}`);
}

function fail(sub: Subscriber, why: string): void {
  if (sub.gotFirst || sub.failed) return;
  sub.failed = true;
  failed++;
  firstFailure ??= why;
}

function openOne(url: string, query: string, id: string, index: number): void {
  const socket = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
  const sub: Subscriber = { socket, query, id, version: 0, gotFirst: false, failed: false };
  subscribers[index] = sub;
  socket.on('open', () => {
    socket.send('{"type":"connection_init"}');
  });
  socket.on('message', (raw) => onMessage(index, raw));
  socket.on('error', (error) => fail(sub, `socket error: ${error.message}`));
  socket.on('close', (code, reason) => fail(sub, `closed ${code} ${reason.toString()}`));
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function handle(message: ToClients): Promise<void> {
  if (message.type === 'open') {
    // A fresh set each time: the bench reuses its probe process for the real subscribers.
    subscribers.length = 0;
    receipts.clear();
    initial = failed = outOfOrder = 0;
    firstFailure = undefined;
    const batch = 250;
    for (let start = 0; start < message.ids.length; start += batch) {
      const end = Math.min(message.ids.length, start + batch);
      for (let i = start; i < end; i++) openOne(message.url, message.query, message.ids[i]!, i);
      // Opening in batches keeps the accept backlog and the handshakes from timing out.
      await until(() => initial + failed >= end, 30_000);
    }
    send({ type: 'opened', initial, failed, ...(firstFailure ? { firstFailure } : {}) });
  } else if (message.type === 'collect') {
    const list = receiptsFor(message.progress);
    const done = () => list.latencies.every((v) => !Number.isNaN(v));
    await until(done, message.timeoutMs);
    const latencies = [...list.latencies].filter((v) => !Number.isNaN(v));
    const received = [...list.received].filter((v) => !Number.isNaN(v));
    send({ type: 'collected', progress: message.progress, latencies, received, missing: list.latencies.length - latencies.length, outOfOrder });
  } else {
    for (const sub of subscribers) sub.socket.close(1000);
    await until(() => subscribers.every((s) => s.socket.readyState === WebSocket.CLOSED), 10_000);
    send({ type: 'closed' });
  }
}

process.on('message', (message: ToClients) => {
  handle(message).catch((error: Error) => {
    console.error(`fanout clients: ${error.stack ?? error.message}`);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));

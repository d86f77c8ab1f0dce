import WebSocket from 'ws';
import type { FuzzCase, FuzzTarget } from './fuzz-case.ts';
import { graphqlPayload } from './cases-graphql.ts';
import { Prng } from './prng.ts';
import { invalidId, jsonValue, NASTY_STRINGS, percentEncode } from './values.ts';

/** Close codes that mean the server failed, not the client: internal error, graphql-ws's 4500. */
const FAULT_CLOSE_CODES = new Set([1011, 4500]);
const MASKED_ERROR = /Unexpected error\.|INTERNAL_SERVER_ERROR/;

/** How long a conversation may take before the fuzzer hangs up (a silent server is not a fault). */
const CONVERSATION_MS = 5000;

type Frame = string | Buffer;

interface Conversation {
  path: string;
  protocols: string[];
  headers: Record<string, string>;
  frames: Frame[];
  /** Ends with a ping whose pong proves the server still reads the socket; else the first message ends it. */
  pingLast: boolean;
}

function short(text: string, max = 300): string {
  return text.length > max ? `${JSON.stringify(text.slice(0, max))}… (${text.length} chars)` : JSON.stringify(text);
}

function describeConversation(c: Conversation): string {
  const frames = c.frames.map((f) => (Buffer.isBuffer(f) ? `<binary ${f.length} bytes>` : short(f, 200))).join(', ');
  return `WS ${short(c.path, 200)} protocols=${JSON.stringify(c.protocols)} headers=${short(JSON.stringify(c.headers), 200)} frames=[${frames}]`;
}

/** Opens the socket, sends the frames in order, and reports anything that looks like a server fault. */
function converse(port: number, c: Conversation): Promise<string | undefined> {
  return new Promise((resolve) => {
    let socket: WebSocket;
    try {
      socket = new WebSocket(`ws://127.0.0.1:${port}${c.path}`, c.protocols, { headers: c.headers, maxPayload: 8 * 1024 * 1024 });
    } catch {
      // The client library refused to build the request (e.g. a protocol name it rejects): nothing reached the server.
      resolve(undefined);
      return;
    }
    let fault: string | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.terminate();
      resolve(fault);
    };
    const timer = setTimeout(finish, CONVERSATION_MS);
    socket.on('unexpected-response', (_request, response) => {
      if ((response.statusCode ?? 0) >= 500) fault = `upgrade answered ${response.statusCode}`;
      finish();
    });
    socket.on('error', () => finish());
    socket.on('close', (code, reason) => {
      if (FAULT_CLOSE_CODES.has(code)) fault = `closed with ${code} ${short(reason.toString())}`;
      finish();
    });
    socket.on('message', (data: Buffer, isBinary) => {
      const text = isBinary ? '' : data.toString();
      if (MASKED_ERROR.test(text)) fault = `sent a masked server error: ${short(text, 400)}`;
      // graphql-ws: the pong to our last ping. Task socket: the first state shows it serves.
      if (c.pingLast ? /"type":"pong"/.test(text) : true) finish();
    });
    socket.on('open', () => {
      for (const frame of c.frames) socket.send(frame, { binary: Buffer.isBuffer(frame) });
      if (c.pingLast) socket.send(JSON.stringify({ type: 'ping' }));
    });
  });
}

function wsCase(transport: 'graphql-ws' | 'task-ws', plan: (target: FuzzTarget) => Conversation): FuzzCase {
  return { transport, describe: (t) => describeConversation(plan(t)), run: (t) => converse(t.port, plan(t)) };
}

/** A graphql-ws conversation with broken frames, wrong message types, bad ordering and duplicates. */
export function graphqlWsCase(rng: Prng): FuzzCase {
  const protocols = rng.weighted<string[]>([
    [8, ['graphql-transport-ws']],
    [1, []],
    [1, [rng.pick(['graphql-ws', 'graphql-transport-ws-x', 'a'])]],
  ]);
  const initPayload = rng.weighted<string>([
    [6, 'valid'],
    [1, 'none'],
    [1, 'garbage'],
  ]);
  const garbagePayload = jsonValue(rng);
  const steps: ((t: FuzzTarget) => Frame)[] = [];
  const ids = ['1', '1', '2', '', 'x'.repeat(2000), '__proto__'];
  const init = (t: FuzzTarget): Frame => {
    const payload = initPayload === 'valid' ? (t.authorization ? { authorization: t.authorization, Authorization: t.authorization } : {}) : initPayload === 'garbage' ? garbagePayload : undefined;
    return JSON.stringify({ type: 'connection_init', ...(payload !== undefined ? { payload } : {}) });
  };
  if (rng.chance(0.85)) steps.push(init);
  for (let i = rng.int(1, 6); i > 0; i--) {
    const kind = rng.weighted<string>([
      [6, 'subscribe'],
      [1, 'init-again'],
      [1, 'complete'],
      [1, 'ping'],
      [1, 'unknown-type'],
      [1, 'not-json'],
      [1, 'binary'],
      // Megabyte frames cost the fuzzer and the server most of all: a few of them show the limit holds.
      [0.25, 'huge'],
      [1, 'bad-subscribe'],
    ]);
    const id = rng.chance(0.7) ? rng.pick(ids) : String(rng.int(1, 100));
    if (kind === 'subscribe') {
      const payload = graphqlPayload(rng);
      steps.push((t) => JSON.stringify({ id, type: 'subscribe', payload: payload(t) }));
    } else if (kind === 'init-again') steps.push(init);
    else if (kind === 'complete') steps.push(() => JSON.stringify({ id, type: 'complete' }));
    else if (kind === 'ping') {
      const payload = rng.chance(0.5) ? jsonValue(rng) : undefined;
      const type = rng.pick(['ping', 'pong']);
      steps.push(() => JSON.stringify({ type, payload }));
    } else if (kind === 'unknown-type') {
      const message = rng.pick<unknown>([{ type: 'start', id, payload: {} }, { type: 'connection_terminate' }, { type: 'stop', id }, {}, { type: null }, { type: 'next', id, payload: {} }, { type: 'error', id, payload: [] }, { type: 'connection_ack' }]);
      steps.push(() => JSON.stringify(message));
    } else if (kind === 'not-json') {
      const text = rng.pick(['', '{', 'null', '[]', '1', '"subscribe"', rng.text(rng.int(1, 200)), rng.anyUnicode(20), '{"type":"subscribe","id":"1","payload":{"query":']);
      steps.push(() => text);
    } else if (kind === 'binary') {
      const bytes = rng.bytes(rng.int(1, 500));
      steps.push(() => bytes);
    } else if (kind === 'huge') {
      const size = rng.pick([100_000, 1_100_000]);
      steps.push(() => JSON.stringify({ id, type: 'subscribe', payload: { query: `{ task(id: "${'x'.repeat(size)}") { id } }` } }));
    } else {
      const payload = rng.pick<unknown>([null, 'query', 1, { query: 1 }, { query: null }, { query: '{ __typename }', variables: 'x' }, { query: '{ __typename }', extensions: 5 }, [], { query: rng.pick(NASTY_STRINGS) }]);
      steps.push(() => JSON.stringify({ id, type: 'subscribe', payload }));
    }
  }
  const pingLast = rng.chance(0.8);
  return wsCase('graphql-ws', (t) => ({ path: '/graphql', protocols, headers: t.authorization ? { authorization: t.authorization } : ({} as Record<string, string>), frames: steps.map((s) => s(t)), pingLast }));
}

/** The seed's `/ws/tasks/{id}` socket with bad ids, stray client frames and odd handshakes. */
export function taskWsCase(rng: Prng): FuzzCase {
  const seed = rng.nextUint32();
  const frames: Frame[] = [];
  for (let i = rng.int(0, 3); i > 0; i--) frames.push(rng.chance(0.3) ? rng.bytes(rng.int(1, 300)) : rng.chance(0.05) ? 'x'.repeat(rng.pick([100_000, 1_100_000])) : rng.pick(['hello', '', '{"type":"subscribe"}', 'x'.repeat(10)]));
  const auth = rng.weighted<string>([
    [6, 'valid'],
    [1, 'none'],
    [1, 'garbage'],
  ]);
  const protocols = rng.chance(0.2) ? [rng.pick(['graphql-transport-ws', 'x', 'tasks'])] : [];
  const suffix = rng.chance(0.1) ? rng.pick(['?x=1', '/', '/extra', '?token=abc']) : '';
  return wsCase('task-ws', (t) => {
    const id = invalidId(new Prng(seed), t.knownIds);
    const headers: Record<string, string> = {};
    if (auth === 'valid' && t.authorization) headers.authorization = t.authorization;
    if (auth === 'garbage') headers.authorization = 'Bearer nope';
    return { path: `/ws/tasks/${percentEncode(id)}${suffix}`, protocols, headers, frames, pingLast: false };
  });
}

import { httpCase, type FuzzCase, type FuzzTarget } from './fuzz-case.ts';
import { Prng } from './prng.ts';
import type { RawRequest } from './raw-http.ts';
import { deepJson, handlerInput, invalidId, invalidUtf8, jsonObject, jsonValue, NASTY_STRINGS, percentEncode } from './values.ts';

type Header = readonly [string, string | Buffer];
type HeaderPlan = (target: FuzzTarget) => Header[];

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'get', 'M-SEARCH', 'X'.repeat(200)];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/problem+json',
  'application/merge-patch+json',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'multipart/form-data',
  'application/octet-stream',
  'application/graphql-response+json',
  'application/json, text/plain',
  '',
  ';;;',
  'application/json; charset=',
  'application/json; boundary="',
  '*/*',
  'json',
  'a'.repeat(5000),
];

const ACCEPTS = ['application/json', 'text/event-stream', '*/*', 'text/html', 'application/problem+json', 'image/png', '', ';q=x', 'application/json;q=0'];

/** Headers a client can get wrong: auth, idempotency, caching, and HTTP's own. */
export function fuzzHeaders(rng: Prng, { json = false }: { json?: boolean } = {}): HeaderPlan {
  const fixed: Header[] = [];
  const authChoice = rng.weighted<string>([
    [6, 'valid'],
    [1, 'none'],
    [1, 'garbage'],
    [1, 'scheme'],
    [1, 'twice'],
  ]);
  const garbage = rng.pick([...NASTY_STRINGS, 'x'.repeat(10_000), 'tl_' + 'a'.repeat(64)]);
  const scheme = rng.pick(['Bearer', 'bearer', 'Basic', 'Bearer  ', 'Token', '']);
  const auth = (target: FuzzTarget): Header[] => {
    if (authChoice === 'valid') return target.authorization ? [['authorization', target.authorization]] : [];
    if (authChoice === 'garbage') return [['authorization', `Bearer ${garbage}`]];
    if (authChoice === 'scheme') return [['authorization', `${scheme} ${target.authorization?.split(' ')[1] ?? 'abc'}`]];
    if (authChoice === 'twice') return [['authorization', target.authorization ?? 'Bearer a'], ['authorization', `Bearer ${garbage}`]];
    return [];
  };
  if (json || rng.chance(0.3)) {
    fixed.push(['content-type', json && rng.chance(0.7) ? 'application/json' : rng.pick(CONTENT_TYPES)]);
    if (rng.chance(0.05)) fixed.push(['content-type', rng.pick(CONTENT_TYPES)]);
  }
  if (rng.chance(0.3)) fixed.push(['accept', rng.pick(ACCEPTS)]);
  if (rng.chance(0.25)) {
    const key = rng.weighted<() => string | Buffer>([
      [3, () => `fuzz-${rng.text(rng.int(1, 30))}`],
      [2, () => rng.pick(NASTY_STRINGS)],
      [1, () => `"${rng.text(rng.int(0, 20))}"`],
      [1, () => 'k'.repeat(rng.pick([255, 256, 5000]))],
      [1, () => invalidUtf8(rng)],
    ])();
    fixed.push(['idempotency-key', key]);
    if (rng.chance(0.2)) fixed.push(['idempotency-key', 'another']);
  }
  if (rng.chance(0.15)) fixed.push(['if-none-match', rng.pick(['*', '"x"', 'W/"a", "b"', '"vid_-v1"', '', ',,,', '"' + 'v'.repeat(3000)])]);
  if (rng.chance(0.1)) fixed.push(['last-event-id', rng.pick(['1', '-1', '99999999999999999999', 'abc', '', '1e3', ' 7 '])]);
  if (rng.chance(0.05)) fixed.push(['x-fuzz', 'h'.repeat(rng.pick([8000, 20_000, 70_000]))]);
  if (rng.chance(0.05)) {
    const count = rng.pick([100, 1000, 3000]);
    for (let i = 0; i < count; i++) fixed.push([`x-many-${i}`, 'v']);
  }
  if (rng.chance(0.05)) fixed.push(['x-bytes', invalidUtf8(rng)]);
  if (rng.chance(0.05)) fixed.push(['expect', rng.pick(['100-continue', 'nothing', ''])]);
  if (rng.chance(0.05)) fixed.push(['origin', rng.pick(['https://evil.example', 'null', ''])]);
  if (rng.chance(0.05)) fixed.push(['x-forwarded-for', rng.pick(['1.2.3.4', 'not an ip', '::1, 10.0.0.1', 'x'.repeat(500)])]);
  if (rng.chance(0.03)) fixed.push(['accept-encoding', rng.pick(['gzip', 'br', 'deflate;q=0', 'x'.repeat(300)])]);
  if (rng.chance(0.03)) fixed.push(['content-encoding', rng.pick(['gzip', 'br', 'identity', 'bogus'])]);
  if (rng.chance(0.03)) fixed.push(['cookie', 'a=b; c'.repeat(rng.int(1, 50))]);
  return (target) => [['host', '127.0.0.1'], ['connection', 'close'], ...auth(target), ...fixed];
}

/** A query string of parameters the list route reads, with bad and repeated values. */
function listQuery(rng: Prng): string {
  const params: string[] = [];
  for (let i = rng.int(0, 5); i > 0; i--) {
    const name = rng.pick(['status', 'kind', 'limit', 'order', 'cursor', 'created_after', 'created_before', 'wait', 'first', 'status[]', '', 'x']);
    const value = rng.weighted<string>([
      [3, rng.pick(['pending', 'processing', 'completed,failed', 'PENDING', 'video', 'image', 'asc', 'desc', '0', '1', '1000', '1001', '-5', '2026-01-11T10:30:00Z', '2026-01-11T10:30:00 01:00', '2026-13-45T99:99:99Z'])],
      [3, percentEncode(rng.pick(NASTY_STRINGS))],
      [1, rng.pick(NASTY_STRINGS)],
      [1, rng.pick(['%', '%zz', '%E0%A4%A', '%C0%AF', '%FF', '+', '&&&', '=='])],
      [1, percentEncode(Buffer.from(rng.bytes(rng.int(1, 20))).toString('base64'))],
      [1, 'c'.repeat(rng.pick([200, 3000, 12_000]))],
    ]);
    params.push(rng.chance(0.05) ? name : `${name}=${value}`);
  }
  return params.length > 0 || rng.chance(0.5) ? `?${params.join('&')}` : '';
}

function pathId(rng: Prng): (target: FuzzTarget) => string {
  const broken = rng.chance(0.1) ? rng.pick(['%ZZ', '%', '%00', '..', '.', '%2F', 'a/b', '?', '#frag', '%E0%A4%A']) : undefined;
  const encode = rng.chance(0.6);
  const seed = rng.nextUint32();
  return (target) => {
    if (broken !== undefined) return broken;
    // Drawn from its own seed at send time, so that it can pick among the target's real ids.
    const id = invalidId(new Prng(seed), target.knownIds);
    return encode ? percentEncode(id) : id.replace(/[\s\r\n]/g, '');
  };
}

/** A submit body: mostly objects with fields of the wrong type, some that are not JSON at all. */
function submitBody(rng: Prng): { body: Buffer; json: boolean } {
  return rng.weighted<() => { body: Buffer; json: boolean }>([
    [
      6,
      () => {
        const kind = rng.weighted<unknown>([
          [2, rng.pick(['video', 'image'])],
          [2, rng.pick(['decoy', 'fuzz_kind', 'a'.repeat(32), 'a'.repeat(33), 'Video', '1video'])],
          [2, jsonValue(rng)],
        ]);
        const body: Record<string, unknown> = {};
        if (rng.chance(0.9)) body.kind = kind;
        // Inputs of kinds the worker runs are ones it ends at once, so fuzzed tasks never hold its slots.
        if (rng.chance(0.8)) body.input = kind === 'video' || kind === 'image' ? handlerInput(rng) : jsonValue(rng);
        if (rng.chance(0.3)) body.service = jsonValue(rng);
        if (rng.chance(0.3)) body.priority = rng.pick([0, 1, -1000, 999, 1001, 1.5, '5', null, 2 ** 53, -0, 1e308]);
        if (rng.chance(0.3)) body.max_attempts = rng.pick([1, 0, 100, 101, 2.5, '3', null, true]);
        if (rng.chance(0.1)) Object.assign(body, jsonObject(rng));
        return { body: Buffer.from(JSON.stringify(body)), json: true };
      },
    ],
    [2, () => ({ body: Buffer.from(JSON.stringify(jsonValue(rng)) ?? 'null'), json: true })],
    [
      2,
      () => ({
        body: Buffer.from(
          rng.pick([
            '{',
            '{"kind":',
            '{"kind": "video",}',
            "{'kind': 'video'}",
            '{"kind": NaN}',
            '{"kind": "video" /* c */}',
            '{"kind":"video"}{"kind":"image"}',
            '\ufeff{"kind":"video"}',
            '{"__proto__": {"kind": "video"}}',
            '{"constructor": {"prototype": {"x": 1}}}',
            '{"kind":"video","input":{"a":"\\u0000"}}',
            '{"kind":"video","input":{"\\u0000":1}}',
            '{"kind":"video","input":{"a":"\\ud800"}}',
            '{"kind":"video","input":1e99999}',
            '{"kind":"video","kind":"image"}',
            'null',
            '',
            ' ',
            'kind=video&input=x',
          ]),
        ),
        json: true,
      }),
    ],
    [1, () => ({ body: Buffer.from(`{"kind":"image","input":${deepJson(rng.pick([100, 1000, 5000, 20_000, 100_000]), rng.chance(0.5) ? 'array' : 'object')}}`), json: true })],
    [1, () => ({ body: Buffer.concat([Buffer.from('{"kind":"image","input":{"s":"'), invalidUtf8(rng), Buffer.from('"}}')]), json: true })],
    [1, () => ({ body: Buffer.from(`{"kind":"image","input":{"s":"${'x'.repeat(rng.pick([60_000, 70_000, 1_100_000]))}"}}`), json: true })],
    [1, () => ({ body: rng.bytes(rng.int(1, 2000)), json: false })],
  ])();
}

function framing(rng: Prng): RawRequest['framing'] {
  return rng.weighted<RawRequest['framing']>([
    [20, 'length'],
    [2, 'chunked'],
    [1, 'bad-chunks'],
    [1, 'truncated'],
    [1, 'none'],
  ]);
}

/** A request to one of the REST routes (or a neighbour of one), with something wrong in it. */
export function restCase(rng: Prng): FuzzCase {
  const route = rng.weighted<string>([
    [5, 'submit'],
    [4, 'get'],
    [2, 'delete'],
    [3, 'list'],
    [2, 'events'],
    [1, 'static'],
    [1, 'wrong-method'],
    [1, 'unknown-path'],
  ]);
  const id = pathId(rng);
  const headers = fuzzHeaders(rng, { json: route === 'submit' });
  if (route === 'submit') {
    const { body } = submitBody(rng);
    const frame = framing(rng);
    const query = rng.chance(0.1) ? listQuery(rng) : '';
    return httpCase('rest', (t) => ({ method: 'POST', target: `/api/v1/tasks${query}`, headers: headers(t), body, framing: frame }));
  }
  if (route === 'get') {
    const wait = rng.chance(0.3) ? `?wait=${rng.pick(['0', '1', '-1', '61', '1.5', 'x', '99999999999999999999', '', '%00'])}` : '';
    return httpCase('rest', (t) => ({ method: 'GET', target: `/api/v1/tasks/${id(t)}${wait}`, headers: headers(t) }));
  }
  if (route === 'delete') {
    const body = rng.chance(0.2) ? Buffer.from(JSON.stringify(jsonValue(rng)) ?? '') : undefined;
    return httpCase('rest', (t) => ({ method: 'DELETE', target: `/api/v1/tasks/${id(t)}`, headers: headers(t), ...(body ? { body } : {}) }));
  }
  if (route === 'list') {
    const query = listQuery(rng);
    return httpCase('rest', (t) => ({ method: 'GET', target: `/api/v1/tasks${query}`, headers: headers(t) }));
  }
  if (route === 'events') {
    return httpCase('rest', (t) => ({ method: 'GET', target: `/api/v1/tasks/${id(t)}/events`, headers: [...headers(t), ['accept', 'text/event-stream']] }));
  }
  if (route === 'static') {
    const path = rng.pick(['/api/v1/openapi.json', '/api/docs', '/healthz', '/readyz', '/metrics', '/dashboard', '/dashboard/', '/dashboard/../../package.json', '/dashboard/%2e%2e/%2e%2e/package.json', '/dashboard/x'.repeat(50)]);
    const query = rng.chance(0.3) ? listQuery(rng) : '';
    const method = rng.pick(['GET', 'HEAD']);
    // Without a build (`pnpm --filter @tasklane/web build`) the dashboard answers a documented 503 page.
    const allow = (status: number, body: string) => path.startsWith('/dashboard') && status === 503 && (method === 'HEAD' || body.includes('dashboard has not been built'));
    return httpCase('rest', (t) => ({ method, target: `${path}${query}`, headers: headers(t) }), { allow });
  }
  if (route === 'wrong-method') {
    const method = rng.pick(METHODS);
    const path = rng.pick(['/api/v1/tasks', '/api/v1/tasks/x', '/api/v1/openapi.json', '/graphql', '/healthz', '/ws/tasks/vid_x', '/api/v1/tasks/x/events']);
    const body = rng.chance(0.5) ? Buffer.from(JSON.stringify(jsonValue(rng)) ?? '') : undefined;
    return httpCase('rest', (t) => ({ method, target: path.replace('/x', `/${id(t)}`), headers: headers(t), ...(body ? { body } : {}) }));
  }
  const path = rng.pick(['/', '/api', '/api/', '/api/v2/tasks', '/api/v1/tasks/', '/api/v1/tasks//', '/api/v1//tasks', '/API/V1/TASKS', '/api/v1/tasks/a/b/c', '/%', '/%00', '//', '/' + 'p/'.repeat(3000)]);
  const method = rng.pick(['GET', 'POST', 'DELETE']);
  return httpCase('rest', (t) => ({ method, target: path, headers: headers(t) }));
}

/** Requests whose HTTP itself is broken: the server must refuse them without falling over. */
export function rawHttpCase(rng: Prng): FuzzCase {
  const variant = rng.int(0, 15);
  const id = rng.text(10, 'abcdefghij');
  const lines = (...text: string[]) => [Buffer.from(text.join('\r\n'), 'latin1')];
  switch (variant) {
    case 0: {
      const bytes = rng.bytes(rng.int(1, 4000));
      return httpCase('http-raw', () => [bytes]);
    }
    case 1:
      return httpCase('http-raw', () => lines(`GET /api/v1/tasks HTTP/1.1`, 'host: x', 'content-length: 5', 'content-length: 7', '', 'hello'));
    case 2:
      return httpCase('http-raw', () => lines('POST /api/v1/tasks HTTP/1.1', 'host: x', 'transfer-encoding: chunked', 'content-length: 3', '', '0', '', ''));
    case 3:
      return httpCase('http-raw', () => lines(`GET /api/v1/tasks/${id} HTTP/9.9`, 'host: x', '', ''));
    case 4:
      return httpCase('http-raw', () => lines(`GET /api/v1/tasks/${id}`, '', ''));
    case 5:
      // Obsolete line folding and a header name with a space.
      return httpCase('http-raw', () => lines('GET /healthz HTTP/1.1', 'host: x', 'x-a: 1', ' folded', 'bad name: y', '', ''));
    case 6:
      return httpCase('http-raw', () => [Buffer.from('GET /readyz HTTP/1.1\r\nhost: x\r\nx-nul: a\0b\r\n\r\n', 'latin1')]);
    case 7:
      // Pipelined: a good request, a broken one, then a good one.
      return httpCase('http-raw', () => lines('GET /healthz HTTP/1.1', 'host: x', '', 'GET /api/v1/tasks?limit=%zz HTTP/1.1', 'host: x', '', 'GARBAGE', '', ''), { readAll: true });
    case 8: {
      const length = rng.pick([9000, 17_000, 70_000]);
      return httpCase('http-raw', () => lines(`GET /${'a'.repeat(length)} HTTP/1.1`, 'host: x', '', ''));
    }
    case 9: {
      // A WebSocket upgrade with a bad key or version.
      const request = lines(
        `GET ${rng.pick(['/graphql', `/ws/tasks/${id}`, '/api/v1/tasks'])} HTTP/1.1`,
        'host: x',
        'connection: Upgrade',
        'upgrade: websocket',
        `sec-websocket-version: ${rng.pick(['13', '8', 'x', ''])}`,
        `sec-websocket-key: ${rng.pick(['dGhlIHNhbXBsZSBub25jZQ==', 'short', '', '!!!!'])}`,
        `sec-websocket-protocol: ${rng.pick(['graphql-transport-ws', 'graphql-ws', 'x, y', '', '\x7f'])}`,
        '',
        '',
      );
      return httpCase('http-raw', () => request);
    }
    case 10:
      return httpCase('http-raw', () => lines('POST /graphql HTTP/1.1', 'host: x', 'content-type: application/json', 'content-length: -1', '', '{}'));
    case 11:
      return httpCase('http-raw', () => lines('POST /api/v1/tasks HTTP/1.1', 'host: x', 'content-type: application/json', 'content-length: 99999999999999999999', '', '{}'));
    case 12:
      return httpCase('http-raw', () => lines('CONNECT 127.0.0.1:1 HTTP/1.1', 'host: x', '', ''));
    case 13:
      return httpCase('http-raw', () => lines('GET /api/v1/tasks HTTP/1.1', '', ''));
    case 14: {
      const frames = rng.bytes(50);
      return httpCase('http-raw', () => [Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frames]);
    }
    default:
      return httpCase('http-raw', () => lines('GET /api/v1/tasks HTTP/1.1', 'host: x', 'host: y', `${'h'.repeat(100)}: ${'v'.repeat(20_000)}`, '', ''));
  }
}

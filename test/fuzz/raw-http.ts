import net from 'node:net';

/** One HTTP/1.1 request written byte for byte, so that malformed HTTP itself can be sent. */
export interface RawRequest {
  method: string;
  /** The request target as sent: path and query, not re-encoded. */
  target: string;
  headers: (readonly [string, string | Buffer])[];
  body?: Buffer;
  /**
   * How the body is framed: a correct `Content-Length`, chunked, none at all, or a
   * `Content-Length` that claims more bytes than are sent (the connection is then half-closed).
   */
  framing?: 'length' | 'chunked' | 'bad-chunks' | 'none' | 'truncated';
  version?: string;
}

export interface RawAnswer {
  /** The status code of every response seen on the connection (pipelined requests give several). */
  statuses: number[];
  head: string;
  /** The first response's body, up to 64 KiB. */
  body: string;
  /** answered: a complete first response; closed/reset: the server hung up without one. */
  outcome: 'answered' | 'closed' | 'reset' | 'timeout';
}

const CRLF = '\r\n';

export function encodeRequest(request: RawRequest): Buffer {
  const { method, target, headers, body, framing = body ? 'length' : 'none', version = 'HTTP/1.1' } = request;
  const parts: Buffer[] = [Buffer.from(`${method} ${target} ${version}${CRLF}`, 'latin1')];
  for (const [name, value] of headers) parts.push(Buffer.from(`${name}: `, 'latin1'), Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8'), Buffer.from(CRLF));
  const payload = body ?? Buffer.alloc(0);
  if (framing === 'length') parts.push(Buffer.from(`content-length: ${payload.length}${CRLF}`));
  if (framing === 'truncated') parts.push(Buffer.from(`content-length: ${payload.length * 2 + 10}${CRLF}`));
  if (framing === 'chunked' || framing === 'bad-chunks') parts.push(Buffer.from(`transfer-encoding: chunked${CRLF}`));
  parts.push(Buffer.from(CRLF));
  if (framing === 'chunked') {
    if (payload.length > 0) parts.push(Buffer.from(`${payload.length.toString(16)}${CRLF}`), payload, Buffer.from(CRLF));
    parts.push(Buffer.from(`0${CRLF}${CRLF}`));
  } else if (framing === 'bad-chunks') {
    // A chunk size that is not hex, then one that lies about its length.
    parts.push(Buffer.from(`zz${CRLF}`), payload, Buffer.from(`${CRLF}ffffffffffffffff${CRLF}abc${CRLF}0${CRLF}${CRLF}`));
  } else {
    parts.push(payload);
  }
  return Buffer.concat(parts);
}

const MAX_BODY = 64 * 1024;

/** Drops interim responses (`100 Continue`): the answer that matters is the final one. */
function skipInterim(text: string): { text: string; offset: number } {
  let offset = 0;
  while (/^HTTP\/1\.[01] 1\d\d /.test(text.slice(offset))) {
    const end = text.indexOf('\r\n\r\n', offset);
    if (end < 0) break;
    offset = end + 4;
  }
  return { text: text.slice(offset), offset };
}

/** Where the first response ends, or -1 while it is incomplete. */
function firstResponseEnd(data: Buffer, headEnd: number, head: string, headOnly: boolean): number {
  const bodyStart = headEnd + 4;
  const status = Number(head.slice(9, 12));
  if (headOnly || status === 204 || status === 304) return bodyStart;
  if (/^content-type:\s*text\/event-stream/im.test(head)) return bodyStart;
  const length = /^content-length:\s*(\d+)\s*$/im.exec(head);
  if (length) return data.length - bodyStart >= Number(length[1]) ? bodyStart + Number(length[1]) : -1;
  if (/^transfer-encoding:\s*chunked/im.test(head)) {
    const end = data.indexOf('\r\n0\r\n\r\n', bodyStart - 2);
    return end >= 0 ? end + 7 : -1;
  }
  return -1;
}

/**
 * Writes `bytes` on a fresh connection and reads what comes back until the first response is
 * complete (or, with `readAll`, until the server closes). A streamed response (SSE) counts as
 * answered once its head arrives.
 */
export function sendRaw(
  port: number,
  bytes: Buffer | Buffer[],
  { timeoutMs = 15_000, halfClose = false, readAll = false, headOnly = false }: { timeoutMs?: number; halfClose?: boolean; readAll?: boolean; headOnly?: boolean } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let data = Buffer.alloc(0);
    let settled = false;
    const finish = (outcome: RawAnswer['outcome']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const statuses = [...data.toString('latin1').matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
      const { text, offset } = skipInterim(data.toString('latin1'));
      const headEnd = text.indexOf('\r\n\r\n');
      const head = headEnd >= 0 ? text.slice(0, headEnd) : text.slice(0, 2000);
      const answered = statuses.length > 0 && (outcome === 'answered' || headEnd >= 0);
      resolve({ statuses, head, body: headEnd >= 0 ? data.subarray(offset + headEnd + 4, offset + headEnd + 4 + MAX_BODY).toString('utf8') : '', outcome: answered ? 'answered' : outcome });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      if (data.length < 4 * MAX_BODY) data = Buffer.concat([data, chunk]);
      if (readAll) return;
      const { text, offset } = skipInterim(data.toString('latin1'));
      const headEnd = text.indexOf('\r\n\r\n');
      if (headEnd >= 0 && firstResponseEnd(data.subarray(offset), headEnd, text.slice(0, headEnd), headOnly) >= 0) finish('answered');
    });
    socket.on('end', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    // A server that answers early (413, 431) and closes makes our remaining writes fail: not a fault.
    socket.on('error', () => finish('reset'));
    socket.on('connect', () => {
      for (const chunk of Array.isArray(bytes) ? bytes : [bytes]) socket.write(chunk);
      if (halfClose) socket.end();
    });
  });
}

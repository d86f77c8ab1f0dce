import { maxHeaderSize } from 'node:http';
import { DEFAULT_MAX_BODY_BYTES } from '@tasklane/core';
import { encodeRequest, sendRaw, type RawRequest } from './raw-http.ts';

/** What every generated request may use: the server's port and things that exist in it. */
export interface FuzzTarget {
  port: number;
  /** Ids of real tasks the fuzzer may read, cancel and follow (never the checked tasks). */
  knownIds: string[];
  /** `Authorization` value of a valid key for the fuzzing owner, when the server runs with AUTH=on. */
  authorization?: string;
}

export type Transport = 'rest' | 'graphql-http' | 'http-raw' | 'graphql-ws' | 'task-ws';

/** One generated request (or socket conversation) and how to tell a server fault from a refusal. */
export interface FuzzCase {
  transport: Transport;
  /** Enough to replay it by hand: method, target, headers and a body excerpt. */
  describe(target: FuzzTarget): string;
  /** Undefined when the server behaved; else what it did wrong. */
  run(target: FuzzTarget): Promise<string | undefined>;
}

/** Response text that means the server hit an unexpected error, whatever the status. */
const MASKED_ERROR = /Unexpected error\.|INTERNAL_SERVER_ERROR|"internal-error"/;

export interface HttpCaseOptions {
  /** False for requests the server may fairly drop without an answer (truncated bodies, broken framing). */
  expectAnswer?: boolean;
  /** Pipelined requests: read until the server closes. */
  readAll?: boolean;
  /** A 5xx that is the documented answer for this request (e.g. the dashboard's "not built" page). */
  allow?: (status: number, body: string) => boolean;
}

function excerpt(value: string | Buffer, max = 300): string {
  const text = Buffer.isBuffer(value) ? value.toString('latin1') : value;
  const shown = JSON.stringify(text.length > max ? text.slice(0, max) : text);
  return text.length > max ? `${shown}… (${text.length} bytes)` : shown;
}

/** Roughly what the request line and headers take on the wire. */
function headBytes(request: RawRequest): number {
  let bytes = Buffer.byteLength(request.method) + Buffer.byteLength(request.target) + 12;
  for (const [name, value] of request.headers) bytes += Buffer.byteLength(name) + Buffer.byteLength(value) + 4;
  return bytes;
}

export function describeRequest(request: RawRequest): string {
  const headers = request.headers.map(([name, value]) => `${excerpt(name, 60)}: ${excerpt(value, 120)}`).join(', ');
  const body = request.body ? ` body ${excerpt(request.body)}` : '';
  return `${excerpt(request.method, 40)} ${excerpt(request.target, 300)} [${request.framing ?? (request.body ? 'length' : 'none')}] {${headers}}${body}`;
}

/**
 * An HTTP request sent over a raw socket. `build` runs at send time, so it can use the target's
 * real ids and key; everything random was decided when the case was generated.
 */
export function httpCase(transport: Transport, build: (target: FuzzTarget) => RawRequest | Buffer[], options: HttpCaseOptions = {}): FuzzCase {
  const { readAll = false } = options;
  return {
    transport,
    describe: (target) => {
      const built = build(target);
      return Array.isArray(built) ? `raw bytes ${built.map((b) => excerpt(b, 400)).join(' + ')}` : describeRequest(built);
    },
    async run(target) {
      const built = build(target);
      const raw = Array.isArray(built);
      const truncated = !raw && (built.framing === 'truncated' || built.framing === 'bad-chunks');
      // Past Node's header limit (431) or the body limit (413) the server answers and hangs up
      // while the client may still be writing, so the client can see a reset instead: a fair
      // answer to an oversized request.
      const oversized = !raw && (headBytes(built) > maxHeaderSize || (built.body?.length ?? 0) > DEFAULT_MAX_BODY_BYTES);
      const expectAnswer = options.expectAnswer ?? (!raw && !truncated && !oversized);
      const bytes = raw ? built : encodeRequest(built);
      // A HEAD answer has a Content-Length but no body.
      const headOnly = !raw && built.method === 'HEAD';
      const answer = await sendRaw(target.port, bytes, { halfClose: truncated || raw, readAll, headOnly, timeoutMs: truncated || raw ? 5000 : 20_000 });
      const fault = answer.statuses.find((status) => status >= 500);
      if (fault !== undefined && !(options.allow?.(fault, answer.body) ?? false)) return `answered ${fault}: ${excerpt(answer.body, 300)}`;
      if (MASKED_ERROR.test(answer.body)) return `answered with a masked server error: ${excerpt(answer.body, 400)}`;
      if (expectAnswer && answer.outcome !== 'answered') return `no answer (${answer.outcome})`;
      return undefined;
    },
  };
}

import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isPublicAddress } from '@tasklane/core';
import { BlockedAddressError } from './guarded-lookup.ts';

/** No more of a receiver's answer is read than this: the status is what counts. */
export const MAX_RESPONSE_BYTES = 4096;

export interface PostResult {
  /** The HTTP status, or null when there was no answer (timeout, connection error, refused address). */
  statusCode: number | null;
  /** A `Retry-After` the answer carried, in milliseconds. */
  retryAfterMs: number | null;
  /** Why there was no answer or it was not a success, in a few words (never with a secret). */
  error: string | null;
  durationMs: number;
}

export interface PostOptions {
  timeoutMs: number;
  /** Agents with the guarded lookup (or plain ones when private addresses are allowed). */
  agents: { http: http.Agent; https: https.Agent };
  allowPrivate: boolean;
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return null;
  if (/^\s*\d+\s*$/.test(raw)) return Number(raw) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export function createAgents(lookup: LookupFunction | undefined): { http: http.Agent; https: https.Agent } {
  // Keep-alive: a receiver that gets many deliveries gets them over a few connections. Each new
  // connection goes through the lookup, so reuse never skips the address check.
  const options = { keepAlive: true, maxSockets: 64, ...(lookup ? { lookup } : {}) };
  return { http: new http.Agent(options), https: new https.Agent(options) };
}

/** Why a URL is refused before any connection, if it is: not a URL, or a literal IP it may not reach. */
function refusal(url: string, allowPrivate: boolean): string | undefined {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return 'invalid URL';
  }
  // A literal IP never reaches the lookup: check it here.
  const literal = target.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && /^[\d.]+$|:/.test(literal) && !isPublicAddress(literal)) return new BlockedAddressError(literal, literal).message;
  return undefined;
}

/**
 * POSTs one signed delivery. Never throws: every way it can go wrong comes back as a result.
 * Redirects are not followed (a 3xx is a failure), and the answer is read up to 4 KB, then cut.
 */
export function postWebhook(url: string, body: string, headers: Record<string, string>, options: PostOptions): Promise<PostResult> {
  const refused = refusal(url, options.allowPrivate);
  if (refused !== undefined) return Promise.resolve({ statusCode: null, retryAfterMs: null, error: refused, durationMs: 0 });
  const started = performance.now();
  const target = new URL(url);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<PostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, durationMs: performance.now() - started });
    };
    const secure = target.protocol === 'https:';
    const request = (secure ? https : http).request(target, {
      method: 'POST',
      agent: secure ? options.agents.https : options.agents.http,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    });
    const timer = setTimeout(() => {
      finish({ statusCode: null, retryAfterMs: null, error: `no answer within ${options.timeoutMs} ms` });
      request.destroy();
    }, options.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => {
      finish({ statusCode: null, retryAfterMs: null, error: error instanceof BlockedAddressError ? error.message : `${error.code ?? 'error'}: ${error.message}`.slice(0, 300) });
    });
    request.on('response', (response) => {
      const statusCode = response.statusCode ?? 0;
      const retryAfterMs = statusCode === 429 || statusCode === 503 ? parseRetryAfter(response.headers['retry-after']) : null;
      const error = statusCode >= 200 && statusCode < 300 ? null : `HTTP ${statusCode}`;
      let read = 0;
      const done = () => finish({ statusCode, retryAfterMs, error });
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= MAX_RESPONSE_BYTES) {
          done();
          // The rest is not wanted; the socket cannot be reused with an unread body.
          response.destroy();
        }
      });
      response.on('end', done);
      response.on('error', done);
      response.on('close', done);
    });
    request.end(body);
  });
}

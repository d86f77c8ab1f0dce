import type { FastifyInstance } from 'fastify';
import type { Task } from '@tasklane/core';
import { ApiKeyStore } from '@tasklane/db/limits';
import type { TestDatabase } from '@tasklane/db/testing';
import WebSocket from 'ws';
import { startApiServer, type ApiServer } from './api-server.ts';

/** Keys of the test server: two owners, an admin, and a key that was revoked before first use. */
export interface TestKeys {
  alice: string;
  bob: string;
  admin: string;
  revoked: string;
}

export interface AuthServer {
  db: TestDatabase;
  ctx: ApiServer['ctx'];
  app: FastifyInstance;
  origin: string;
  keys: TestKeys;
  /** Submits a task directly through the store, owned by `owner`. */
  submitAs(owner: string, kind: string): Promise<Task>;
  close(): Promise<void>;
}

/** A real API server with `AUTH=on` on a random port over a fresh database, with keys made by the key store. */
export async function startAuthServer(env: Record<string, string> = {}): Promise<AuthServer> {
  // Rate limits off: this suite is about who sees what, not how often.
  const server = await startApiServer({ AUTH: 'on', RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '0', RATE_LIMIT_SUBSCRIPTIONS: '0', ...env });
  const { db, ctx, app } = server;
  const store = new ApiKeyStore(ctx.pool);
  const revoked = await store.create({ owner: 'alice', name: 'revoked' });
  await store.revoke(revoked.info.id);
  const keys: TestKeys = {
    alice: (await store.create({ owner: 'alice' })).key,
    bob: (await store.create({ owner: 'bob' })).key,
    admin: (await store.create({ owner: 'ops', admin: true })).key,
    revoked: revoked.key,
  };
  return {
    db,
    ctx,
    app,
    origin: server.origin,
    keys,
    async submitAs(owner, kind) {
      return (await ctx.store.submit({ kind }, { owner })).task;
    },
    close: () => server.close(),
  };
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Headers that differ between any two responses whatever they answer. */
const VOLATILE_HEADERS = new Set(['date', 'connection', 'keep-alive']);

/** A request with an optional Bearer key; the whole answer as text. */
export async function http(url: string, { key, method = 'GET', headers = {}, body }: { key?: string | undefined; method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpAnswer> {
  const response = await fetch(url, {
    method,
    headers: { ...headers, ...(key ? { authorization: `Bearer ${key}` } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  const all: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!VOLATILE_HEADERS.has(name)) all[name] = value;
  });
  return { status: response.status, headers: all, body: text };
}

/** The answer with the task id masked, so answers about two different ids can be compared byte for byte. */
export function masked(answer: unknown, id: string): string {
  return JSON.stringify(answer).replaceAll(id, '<id>');
}

export interface SocketClose {
  code: number;
  reason: string;
  /** Text messages received before the close. */
  messages: string[];
}

/**
 * Opens a WebSocket, sends `send` once it is open, and resolves when the server closes it (or
 * after the first message when `untilMessage`, closing it from this side).
 */
export function socket(
  url: string,
  { headers = {}, protocol, send, untilMessage = false }: { headers?: Record<string, string>; protocol?: string; send?: unknown[]; untilMessage?: boolean } = {},
): Promise<SocketClose> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocol ? [protocol] : [], { headers });
    const messages: string[] = [];
    ws.on('error', reject);
    ws.on('open', () => {
      for (const message of send ?? []) ws.send(typeof message === 'string' ? message : JSON.stringify(message));
    });
    ws.on('message', (data) => {
      messages.push(String(data));
      if (untilMessage) ws.close(1000);
    });
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), messages }));
  });
}

import type { FastifyInstance } from 'fastify';
import { createTaskDriver, type TaskDriver, type TestDatabase } from '@tasklane/db/testing';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse';
import WebSocket from 'ws';
import type { AppContext } from '../../src/app-context.ts';
import { startApiServer } from '../api-server.ts';

export interface GraphqlResponse<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

/** A real API server on a random port over a fresh database, with helpers to talk to it and move tasks. */
export interface TestServer {
  db: TestDatabase;
  ctx: AppContext & { close(): Promise<void> };
  app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  origin: string;
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<GraphqlResponse<T>>;
  ws(): WsClient;
  sse(): SseClient;
  /** Moves tasks by hand; give each test its own kind so claims never collide. */
  worker: TaskDriver;
  close(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startApiServer(env);
  const { db, ctx, app, origin } = server;
  const url = `${origin}/graphql`;
  const worker = createTaskDriver(db.url);
  const clients: { dispose(): unknown }[] = [];

  return {
    db,
    ctx,
    app,
    origin,
    url,
    async gql(query, variables) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query, variables }),
      });
      return response.json() as Promise<GraphqlResponse<any>>;
    },
    ws() {
      const client = createWsClient({ url: url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
      clients.push(client);
      return client;
    },
    sse() {
      const client = createSseClient({ url, retryAttempts: 0 });
      clients.push(client);
      return client;
    },
    worker,
    async close() {
      for (const client of clients) await client.dispose();
      await worker.close();
      await server.close();
    },
  };
}

/** The fields every test reads from a task. */
export const TASK_FIELDS = 'id kind status progress message version result error { type message retryable } attempts';

export const SUBMIT = `mutation Submit($input: SubmitTaskInput!) { submitTask(input: $input) { ${TASK_FIELDS} } }`;
export const FOLLOW = `subscription Follow($id: ID!) { taskUpdated(id: $id) { ${TASK_FIELDS} } }`;

/** Submits a task through GraphQL and returns it. */
export async function submit(server: TestServer, input: Record<string, unknown>): Promise<Record<string, any>> {
  const response = await server.gql(SUBMIT, { input });
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data!.submitTask;
}

type Payload = { data?: Record<string, any> | null; errors?: unknown };

/** Reads one `field` payload at a time from a graphql-ws or graphql-sse iterator. */
export function reader(iterator: AsyncIterableIterator<Payload>, field = 'taskUpdated') {
  return {
    async next(): Promise<Record<string, any>> {
      const result = await iterator.next();
      if (result.done) throw new Error('subscription ended early');
      if (result.value.errors) throw new Error(JSON.stringify(result.value.errors));
      return result.value.data?.[field];
    },
    /** Whether the subscription ends next, with no further payload. */
    async ended(): Promise<boolean> {
      return (await iterator.next()).done === true;
    },
    stop: () => iterator.return?.(),
  };
}

/** Resolves once `check()` is true, re-checking whenever the event loop turns (no fixed delays to tune). */
export async function until(check: () => boolean | Promise<boolean>, what: string, maxTurns = 8_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`gave up waiting for ${what}`);
}

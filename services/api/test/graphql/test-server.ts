import type { FastifyInstance } from 'fastify';
import type { Task } from '@tasklane/core';
import { createPool, WorkerStore, type Held } from '@tasklane/db';
import type { TestDatabase } from '@tasklane/db/testing';
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
  /** A worker that claims only `kind`; give each test its own kind so claims never collide. */
  worker(kind: string): TestWorker;
  close(): Promise<void>;
}

export interface TestWorker {
  store: WorkerStore;
  /** Claims the one pending task of this kind (fails the test when there is none). */
  claim(): Promise<Task & Held>;
  progress(task: Held, percent: number, message?: string): Promise<void>;
  complete(task: Held, result: unknown): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startApiServer(env);
  const { db, ctx, app, origin } = server;
  const url = `${origin}/graphql`;
  const workerPool = createPool({ connectionString: db.url, max: 4, applicationName: 'tasklane-test-worker' });
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
    worker(kind) {
      const store = new WorkerStore(workerPool, { workerId: `test-worker-${kind}`, leaseSeconds: 300 });
      return {
        store,
        async claim() {
          const [task] = await store.claim(1, [kind], { total: 1000, perKind: {} });
          if (!task) throw new Error(`no pending ${kind} task to claim`);
          return { ...task, attempt: task.attempts };
        },
        async progress(task, percent, message) {
          if (!(await store.progress(task, percent, message ?? null))) throw new Error(`lost ${task.id}`);
        },
        async complete(task, result) {
          const done = await store.complete([{ id: task.id, attempt: task.attempt, result: result as never }]);
          if (!done.has(task.id)) throw new Error(`could not complete ${task.id}`);
        },
      };
    },
    async close() {
      for (const client of clients) await client.dispose();
      await workerPool.end();
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

/** Resolves once `check()` is true, re-checking whenever the event loop turns (no fixed delays to tune). */
export async function until(check: () => boolean | Promise<boolean>, what: string, maxTurns = 8_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`gave up waiting for ${what}`);
}

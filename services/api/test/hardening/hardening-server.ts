import type { FastifyInstance } from 'fastify';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import type { AppContext } from '../../src/app-context.ts';
import { startApiServer } from '../api-server.ts';

/** A real API server over a fresh database, configured from `env` like a deployed one. */
export interface HardeningServer {
  app: FastifyInstance;
  ctx: AppContext;
  /** http://127.0.0.1:<port> */
  origin: string;
  /** Posts a GraphQL operation as JSON; answers the status, the body and the content type. */
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; contentType: string | null }>;
  /** Runs one operation over graphql-ws and collects what it answered (results or errors). */
  overWs(query: string, variables?: Record<string, unknown>): Promise<{ results: FormattedExecutionResult<Record<string, unknown>, unknown>[]; errors: unknown }>;
  close(): Promise<void>;
}

export async function startHardeningServer(env: Record<string, string> = {}): Promise<HardeningServer> {
  const server = await startApiServer(env);
  const { app, ctx, origin } = server;
  const clients: Client[] = [];
  return {
    app,
    ctx,
    origin,
    async post(body, headers = {}) {
      const response = await fetch(`${origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined, contentType: response.headers.get('content-type') };
    },
    overWs(query, variables) {
      const client = createClient({ url: `${origin.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
      clients.push(client);
      const results: FormattedExecutionResult<Record<string, unknown>, unknown>[] = [];
      return new Promise((resolve) => {
        client.subscribe(
          { query, ...(variables ? { variables } : {}) },
          {
            next: (result) => void results.push(result),
            error: (errors) => resolve({ results, errors }),
            complete: () => resolve({ results, errors: undefined }),
          },
        );
      });
    },
    async close() {
      for (const client of clients) await client.dispose();
      await server.close();
    },
  };
}

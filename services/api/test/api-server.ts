import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '@tasklane/core';
import { ANY_KIND, createTestDatabase, type TestDatabase } from '@tasklane/db/testing';
import { createAppContext } from '../src/create-app-context.ts';
import { buildServer } from '../src/server.ts';

/**
 * The setup every API test harness shares: a database of its own cloned from the migrated
 * template, the app context configured from `env` as a deployed process is (any kind accepted,
 * logs silent unless `env` says otherwise), and the server listening on a random loopback port.
 * The harnesses (GraphQL, REST, hardening, auth) add only their own helpers on top.
 */
export interface ApiServer {
  db: TestDatabase;
  ctx: Awaited<ReturnType<typeof createAppContext>>;
  app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  origin: string;
  port: number;
  /** Stops the server and the context, then drops the database. */
  close(): Promise<void>;
}

export interface ApiServerOptions {
  /** Runs before the server listens: hooks and routes a harness adds. */
  beforeListen?: (app: FastifyInstance) => void;
}

export async function startApiServer(env: Record<string, string> = {}, { beforeListen }: ApiServerOptions = {}): Promise<ApiServer> {
  const db = await createTestDatabase();
  const ctx = await createAppContext(loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', ...ANY_KIND, ...env }), db.url);
  const app = await buildServer(ctx);
  beforeListen?.(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    db,
    ctx,
    app,
    origin: `http://127.0.0.1:${port}`,
    port,
    async close() {
      await app.close();
      await ctx.close();
      await db.drop();
    },
  };
}

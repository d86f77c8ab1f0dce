import type { FastifyInstance } from 'fastify';
import { createTaskDriver, type TaskDriver } from '@tasklane/db/testing';
import { startApiServer, type ApiServer } from '../api-server.ts';

/**
 * A real API server on a random port over a fresh database, and a worker driver that moves tasks
 * through the real store (claim, progress, complete, fail), so responses come from real rows.
 */
export interface RestHarness {
  baseUrl: string;
  app: FastifyInstance;
  ctx: ApiServer['ctx'];
  worker: TaskDriver;
  /** Every answered request, in order: lets a test act right after a client's poll, without sleeping. */
  responses: SeenResponse[];
  /** Resolves once a response matching `predicate` has been sent (including earlier ones). */
  seen(predicate: (response: SeenResponse) => boolean): Promise<SeenResponse>;
  close(): Promise<void>;
}

export interface SeenResponse {
  method: string;
  url: string;
  statusCode: number;
  location: string | undefined;
}

export async function startRestHarness(env: Record<string, string> = {}): Promise<RestHarness> {
  const responses: SeenResponse[] = [];
  const waiters = new Set<{ predicate: (r: SeenResponse) => boolean; resolve: (r: SeenResponse) => void }>();
  const onResponse = (app: FastifyInstance) => app.addHook('onResponse', async (request, reply) => {
    const location = reply.getHeader('location');
    const seen = { method: request.method, url: request.url, statusCode: reply.statusCode, location: typeof location === 'string' ? location : undefined };
    responses.push(seen);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(seen)) {
        waiters.delete(waiter);
        waiter.resolve(seen);
      }
    }
  });
  const server = await startApiServer(env, { beforeListen: onResponse });
  const { app, ctx } = server;
  const worker = createTaskDriver(server.db.url);
  return {
    baseUrl: server.origin,
    app,
    ctx,
    worker,
    responses,
    seen(predicate) {
      const earlier = responses.find(predicate);
      if (earlier) return Promise.resolve(earlier);
      return new Promise((resolve) => waiters.add({ predicate, resolve }));
    },
    async close() {
      await worker.close();
      await server.close();
    },
  };
}

let kindCounter = 0;
/** A kind no other test uses, so a claim takes exactly the tasks the test submitted. */
export function uniqueKind(prefix = 'k'): string {
  kindCounter += 1;
  return `${prefix}_${process.pid}_${kindCounter}`;
}

export const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

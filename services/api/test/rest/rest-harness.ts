import type { FastifyInstance } from 'fastify';
import type { ConcurrencyCaps, JsonValue, Task, TaskErrorInfo } from '@tasklane/core';
import { WorkerStore } from '@tasklane/db';
import { startApiServer, type ApiServer } from '../api-server.ts';

const caps: ConcurrencyCaps = { total: 10_000, perKind: {} };

/**
 * A real API server on a random port over a fresh database, and a worker driver that moves tasks
 * through the real store (claim, progress, complete, fail), so responses come from real rows.
 */
export interface RestHarness {
  baseUrl: string;
  app: FastifyInstance;
  ctx: ApiServer['ctx'];
  worker: WorkerDriver;
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
  const { app, ctx, port } = server;
  const worker = new WorkerDriver(new WorkerStore(ctx.pool, { workerId: `rest-test-${port}`, leaseSeconds: 60 }));
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
    close: () => server.close(),
  };
}

let kindCounter = 0;
/** A kind no other test uses, so a claim takes exactly the tasks the test submitted. */
export function uniqueKind(prefix = 'k'): string {
  kindCounter += 1;
  return `${prefix}_${process.pid}_${kindCounter}`;
}

export class WorkerDriver {
  private readonly attempts = new Map<string, number>();
  constructor(readonly store: WorkerStore) {}

  /** Claims the pending tasks of `kind` (all of them must be runnable now). */
  async claim(kind: string, count = 1): Promise<Task[]> {
    const claimed = await this.store.claim(count, [kind], caps);
    for (const task of claimed) this.attempts.set(task.id, task.attempts);
    if (claimed.length !== count) throw new Error(`claimed ${claimed.length} ${kind} tasks, expected ${count}`);
    return claimed;
  }

  private held(id: string) {
    const attempt = this.attempts.get(id);
    if (attempt === undefined) throw new Error(`task ${id} was not claimed by this driver`);
    return { id, attempt };
  }

  async progress(id: string, progress: number, message: string | null = null): Promise<void> {
    if (!(await this.store.progress(this.held(id), progress, message))) throw new Error(`lost ${id}`);
  }

  async complete(id: string, result: JsonValue, service: string | null = null): Promise<void> {
    const done = await this.store.complete([{ ...this.held(id), result, service }]);
    if (!done.has(id)) throw new Error(`could not complete ${id}`);
  }

  async fail(id: string, error: TaskErrorInfo, progress?: number): Promise<'pending' | 'failed' | undefined> {
    return this.store.fail({ ...this.held(id), error, ...(progress === undefined ? {} : { progress }) });
  }
}

export const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

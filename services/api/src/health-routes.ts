import type { FastifyInstance } from 'fastify';
import { migrationsApplied } from '@tasklane/db';
import type { AppContext } from './app-context.ts';

/** `/healthz`: the process is alive. `/readyz`: it can serve (database reachable, schema current). */
export function registerHealthRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = await migrationsApplied(ctx.store.pool).catch(() => false);
    if (!ready) {
      return reply.status(503).header('retry-after', '5').send({ status: 'unavailable', database: 'unreachable or not migrated' });
    }
    return { status: 'ready', listening: ctx.bus.connected };
  });
}

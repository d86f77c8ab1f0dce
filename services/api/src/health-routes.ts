import type { FastifyInstance } from 'fastify';
import { migrationsApplied, statementHealth } from '@tasklane/db';
import type { AppContext } from './app-context.ts';

/**
 * `/healthz`: the process is alive. `/readyz`: it can serve: the database answers, the schema is
 * current, and none of its hot statements (the read by id that every poll makes) has failed every
 * time for longer than a lease, as it does behind a pooler that refuses them.
 */
export function registerHealthRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = await migrationsApplied(ctx.store.pool).catch(() => false);
    if (!ready) {
      return reply.status(503).header('retry-after', '5').send({ status: 'unavailable', database: 'unreachable or not migrated' });
    }
    const cause = statementHealth(ctx.pool).problem(ctx.config.leaseSeconds * 1000);
    if (cause !== undefined) return reply.status(503).header('retry-after', '5').send({ status: 'unavailable', database: cause });
    return { status: 'ready', listening: ctx.bus.connected };
  });
}

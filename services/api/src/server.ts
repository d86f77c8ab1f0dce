import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { AppContext } from './app-context.ts';
import { listensOnLoopback } from './auth/auth-off-warning.ts';
import { registerCors } from './cors.ts';
import { registerCrossSiteGuard } from './cross-site-guard.ts';
import { registerDashboard } from './dashboard-route.ts';
import { registerFavicon } from './favicon-route.ts';
import { registerHealthRoutes } from './health-routes.ts';
import { registerGraphql } from './graphql/register.ts';
import { registerRest } from './rest/register.ts';
import { RequestLog } from './request-log.ts';
import { createMetrics, registerMetrics } from './metrics.ts';

export interface ServerOptions {
  /** The process's logger (`createLogger` of @tasklane/log). @default none */
  logger?: FastifyBaseLogger;
}

/** One HTTP server per API process: GraphQL, REST, WebSockets, health and metrics on one port. */
export async function buildServer(ctx: AppContext, { logger }: ServerOptions = {}): Promise<FastifyInstance> {
  const { maxBodyBytes, allowedOrigins } = ctx.config.hardening;
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    logController: new RequestLog(),
    bodyLimit: maxBodyBytes,
    forceCloseConnections: true,
    // Longer than any task id, so that an oversized id reaches the routes and gets their 404
    // problem body instead of the router's bare 414.
    routerOptions: { maxParamLength: 2048 },
  });
  // An Expect other than 100-continue is ignored and the request served, as RFC 9110 allows.
  // Node's default answers 417 before reading the body, then closes a socket with the body still
  // unread, which resets it: a client sending a large body got no answer at all (Node 26).
  app.server.on('checkExpectation', (request, response) => app.server.emit('request', request, response));
  // A bigger frame makes `ws` close the socket with 1009 (message too big).
  await app.register(websocket, { options: { maxPayload: maxBodyBytes } });
  registerCrossSiteGuard(app, {
    allowedOrigins,
    loopbackHostsOnly: ctx.config.auth === 'off' && listensOnLoopback(ctx.config),
  });
  // After the guard (which refuses origins not on the list) and before any route is added.
  registerCors(app, { allowedOrigins });
  const metrics = createMetrics(ctx);
  registerMetrics(app, metrics);
  registerHealthRoutes(app, ctx);
  await registerGraphql(app, ctx, { metrics });
  await registerRest(app, ctx);
  registerDashboard(app);
  registerFavicon(app);
  return app;
}

import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.ts';
import { authHook, decorateCaller } from '../auth/rest-auth.ts';
import { registerRestBodyParsers } from './body-parsers.ts';
import { registerTaskEvents } from './events-sse.ts';
import { registerKindRoutes } from './kind-routes.ts';
import { registerListRoute } from './list-route.ts';
import { registerOperationsRoutes } from './operations-routes.ts';
import { collectRestRoutes, registerOpenApiRoutes } from './openapi.ts';
import { problem, restErrorHandler, sendProblem } from './problem.ts';
import { taskSocketPaths } from './push-contract.ts';
import { registerStreamTokenRoute } from './stream-token-route.ts';
import { registerSubmitRoute } from './submit-route.ts';
import { registerTaskRoutes } from './task-routes.ts';
import { registerTaskSocket } from './task-socket.ts';
import { registerWebhookRoutes } from './webhook-routes.ts';
import { registerWorkerRoutes } from './worker-routes.ts';

/** Mounts the REST compatibility layer on `/api/v1` and the seed's `/ws/tasks/{id}` socket. */
export async function registerRest(app: FastifyInstance, ctx: AppContext): Promise<void> {
  decorateCaller(app);
  // One encapsulated scope for `/api`: its error and not-found handlers answer problem+json
  // without changing what the rest of the server (GraphQL, health) does.
  await app.register(
    async (api) => {
      api.setErrorHandler(restErrorHandler);
      registerRestBodyParsers(api);
      // Before routing to a handler, so no route can forget it; the docs pages stay public.
      api.addHook('onRequest', authHook(ctx));
      api.setNotFoundHandler((request, reply) => {
        const path = request.url.split('?')[0] ?? request.url;
        sendProblem(reply, problem('not-found', `No route ${request.method} ${path.slice(0, 200)}`, { code: 'NOT_FOUND' }));
      });
      // Before any route: every route's declared operation becomes a path of the document.
      const routes = collectRestRoutes(api);
      registerSubmitRoute(api, ctx);
      registerListRoute(api, ctx);
      registerOperationsRoutes(api, ctx);
      registerKindRoutes(api, ctx);
      registerTaskRoutes(api, ctx);
      registerTaskEvents(api, ctx);
      registerStreamTokenRoute(api, ctx);
      registerWebhookRoutes(api, ctx);
      registerWorkerRoutes(api, ctx);
      // Last, so the document holds every route; the socket is routed outside `/api`.
      registerOpenApiRoutes(api, routes, taskSocketPaths);
    },
    { prefix: '/api' },
  );
  registerTaskSocket(app, ctx);
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.ts';
import { authenticate, callerFor, type Caller } from '../request-scope.ts';
import { bearerChallenge, UnauthenticatedError } from './unauthenticated-error.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set by the `/api` scope's auth hook, and by the task socket once it knows. */
    caller: Caller;
  }
}

/** Routes of the `/api` scope that answer without a key: the API's own documentation. */
const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/api/v1/openapi.json', '/api/docs']);

/** The route that also takes a stream token (`?token=`), since a browser's EventSource cannot send a key. */
export const TASK_EVENTS_ROUTE = '/api/v1/tasks/:task_id/events';

/** Routes of the worker protocol: the only ones worker keys may use, and only they. */
export const WORKER_ROUTE_PREFIX = '/api/v1/workers/';

/** Lets requests carry `request.caller`; call once on the root instance, before any auth hook. */
export function decorateCaller(app: FastifyInstance): void {
  // null, not an object: Fastify forbids reference-typed decorator defaults (they would be shared).
  if (!app.hasRequestDecorator('caller')) app.decorateRequest('caller', null as unknown as Caller);
}

/**
 * An `onRequest` hook that authenticates every request of the scope it is added to, before the
 * body is read. A request without a usable key gets 401 with a `WWW-Authenticate: Bearer`
 * challenge, through the scope's error handler.
 */
export function authHook(ctx: AppContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.routeOptions.url !== undefined && PUBLIC_ROUTES.has(request.routeOptions.url)) return;
    try {
      const token = streamToken(request);
      if (token !== undefined && ctx.config.auth === 'on') {
        request.caller = callerFor(await ctx.keys.verifyStreamToken(token, (request.params as { task_id: string }).task_id));
        return;
      }
      const asWorker = request.routeOptions.url?.startsWith(WORKER_ROUTE_PREFIX) ?? false;
      request.caller = await authenticate(ctx, request.headers.authorization, { asWorker });
    } catch (error) {
      if (error instanceof UnauthenticatedError) reply.header('www-authenticate', bearerChallenge(error));
      throw error;
    }
  };
}

/** A stream token given instead of a key on the events route; a key in `Authorization` wins. */
function streamToken(request: FastifyRequest): string | undefined {
  if (request.routeOptions.url !== TASK_EVENTS_ROUTE || request.headers.authorization !== undefined) return undefined;
  const token = (request.query as { token?: unknown }).token;
  return typeof token === 'string' ? token : undefined;
}

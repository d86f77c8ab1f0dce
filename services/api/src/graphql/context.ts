import type { IncomingHttpHeaders } from 'node:http';
import type { AppContext } from '../app-context.ts';
import type { Metrics } from '../metrics.ts';
import { requestScope } from '../request-scope.ts';

export type RequestScope = ReturnType<typeof requestScope>;

/** What every resolver receives: the process's shared services and the caller's scope. */
export interface GraphqlContext {
  app: AppContext;
  /** Restricts every store call to the caller's tasks; new tasks go to `ownerForNewTasks`. */
  scope: RequestScope;
  metrics: Metrics | undefined;
  /** Aborts when the client goes away (SSE and HTTP); graphql-ws ends subscriptions by `return()`. */
  signal: AbortSignal | undefined;
}

/**
 * Builds a fresh context per operation (Pothos caches loaded nodes on the context object, so it
 * must never be shared between requests). HTTP and SSE pass the Fastify request; graphql-ws
 * passes the upgrade request, so auth reads the same headers on every transport.
 */
export function createGraphqlContext(
  app: AppContext,
  metrics: Metrics | undefined,
  headers: IncomingHttpHeaders,
  signal?: AbortSignal,
): GraphqlContext {
  return { app, scope: requestScope(headers), metrics, signal };
}

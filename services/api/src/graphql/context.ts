import type { Scope } from '@tasklane/db';
import type { AppContext } from '../app-context.ts';
import type { Metrics } from '../metrics.ts';
import type { Caller } from '../request-scope.ts';
import type { SubscriptionStream } from './subscription-stream.ts';

/** What every resolver receives: the process's shared services and who is calling. */
export interface GraphqlContext {
  app: AppContext;
  /** Who is calling; new tasks belong to `caller.owner`, rate limits count per owner. */
  caller: Caller;
  /** `caller.scope`: restricts every store and feed call to the caller's tasks. */
  scope: Scope;
  metrics: Metrics | undefined;
  /** Aborts when the client goes away (SSE and HTTP); graphql-ws ends subscriptions by `return()`. */
  signal: AbortSignal | undefined;
  /**
   * Over graphql-ws: told of the stream a subscription opens, so that its events can be sent
   * shared (see `SharedSubscriptionDelivery`). Handed over on the operation's own context rather
   * than looked up in a process-wide map, which would take an entry per subscriber.
   */
  streamOpened?: ((stream: SubscriptionStream<object>) => void) | undefined;
  /** The HTTP request's headers (for its `traceparent`); empty over graphql-ws. */
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Builds a fresh context per operation (Pothos caches loaded nodes on the context object, so it
 * must never be shared between requests). The caller is authenticated by the transport: per
 * request over HTTP and SSE, once per connection over graphql-ws.
 */
export function createGraphqlContext(
  app: AppContext,
  metrics: Metrics | undefined,
  caller: Caller,
  signal?: AbortSignal,
  headers: Record<string, string | string[] | undefined> = {},
): GraphqlContext {
  return { app, caller, scope: caller.scope, metrics, signal, headers };
}

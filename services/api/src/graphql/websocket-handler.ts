import type { ExecutionArgs, ExecutionResult, GraphQLError } from 'graphql';
import type { WebSocket } from 'ws';
import { makeHandler } from 'graphql-ws/use/@fastify/websocket';
import type { AppContext } from '../app-context.ts';
import { authenticateConnection } from '../auth/graphql-auth.ts';
import type { Caller } from '../request-scope.ts';
import { getOperationAST } from 'graphql';
import { SharedSubscriptionDelivery, type MaskErrors } from './shared-subscription-delivery.ts';
import { keepAlive } from '../socket-keep-alive.ts';
import type { SubscriptionStream } from './subscription-stream.ts';
import type { TasklaneYoga } from './yoga.ts';

type Run = (args: ExecutionArgs) => Promise<ExecutionResult | AsyncIterable<ExecutionResult>> | ExecutionResult | AsyncIterable<ExecutionResult>;

/** Yoga's enveloped executors, carried to graphql-ws's `execute`/`subscribe` in `rootValue`. */
interface EnvelopedRoot {
  execute: Run;
  subscribe: Run;
  /** Set for subscriptions: how to find the source stream and send its events shared. */
  shared?: SharedSubscription;
}

interface SharedSubscription {
  socket: WebSocket;
  id: string;
  /** The source stream, once the field's `subscribe` opened it (through the context's `streamOpened`). */
  source?: SubscriptionStream<object>;
  /** Subscribers with the same key get the same bytes for the same event. */
  key: string;
}

/** Yoga's own masking as configured (its message, dev mode and logging); not in its typings. */
function yogaMasking(yoga: TasklaneYoga): MaskErrors {
  const options = (yoga as unknown as { maskedErrorsOpts?: { maskError: (error: GraphQLError, message: string, isDev?: boolean) => GraphQLError; errorMessage: string; isDev?: boolean } | null })
    .maskedErrorsOpts;
  return options ? (error) => options.maskError(error, options.errorMessage, options.isDev) : (error) => error;
}

/**
 * Subscriptions are started by Yoga's pipeline like any operation (arguments, the field's
 * `subscribe`, the initial read, errors), but their events then skip the per-subscriber
 * execution: {@link SharedSubscriptionDelivery} executes and serialises each event once for all
 * subscribers with the same operation, variables and caller, and writes it to each socket.
 */
async function subscribeShared(args: ExecutionArgs, mask: MaskErrors) {
  const root = args.rootValue as EnvelopedRoot;
  const result = await root.subscribe(args);
  const shared = root.shared;
  if (!shared || !(Symbol.asyncIterator in result)) return result;
  const source = shared.source;
  if (!source) return result;
  return new SharedSubscriptionDelivery(shared.socket, shared.id, source, shared.key, args, mask);
}

/**
 * graphql-ws (`graphql-transport-ws`) on the same path as HTTP. Every operation runs through
 * Yoga's envelop pipeline, so parsing, validation, context, error masking and every future plugin
 * (auth, limits) behave exactly as over HTTP. The executors travel in `rootValue` because
 * graphql-ws calls `execute`/`subscribe` with the execution args alone.
 */
export function makeGraphqlWsHandler(yoga: TasklaneYoga, app: AppContext) {
  const mask = yogaMasking(yoga);
  const handler = makeHandler<Record<string, unknown>, { caller: Caller }>({
    onConnect: (ctx) => authenticateConnection(app, ctx),
    execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
    subscribe: (args) => subscribeShared(args, mask),
    onSubscribe: async (ctx, id, payload) => {
      const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
        ...ctx,
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        caller: ctx.extra.caller,
        params: payload,
      });
      let document;
      try {
        document = parse(payload.query);
      } catch (error) {
        // A syntax error: graphql-ws answers it with an `error` message for this operation.
        return [error as GraphQLError];
      }
      const errors = validate(schema, document);
      if (errors.length > 0) return errors;
      const rootValue: EnvelopedRoot = { execute, subscribe };
      const contextValue = await contextFactory();
      if (getOperationAST(document, payload.operationName)?.operation === 'subscription' && contextValue.streamOpened === undefined) {
        const key = JSON.stringify([payload.query, payload.operationName ?? null, payload.variables ?? null, contextValue.caller ?? null, contextValue.scope]);
        const shared: SharedSubscription = { socket: ctx.extra.socket, id, key };
        contextValue.streamOpened = (stream) => (shared.source = stream);
        rootValue.shared = shared;
      }
      return {
        schema,
        operationName: payload.operationName,
        document,
        variableValues: payload.variables,
        contextValue,
        rootValue,
      } satisfies ExecutionArgs;
    },
  }, 0);
  // graphql-ws's own keep-alive is off (the 0 above): `keepAlive` does the same with less per ping.
  const intervalMs = app.config.keepAliveSeconds * 1000;
  return function withKeepAlive(this: ThisParameterType<typeof handler>, socket: WebSocket, request: Parameters<typeof handler>[1]): void {
    keepAlive(socket, intervalMs);
    handler.call(this, socket, request);
  };
}

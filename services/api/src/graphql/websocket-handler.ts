import type { ExecutionArgs, ExecutionResult, GraphQLError } from 'graphql';
import { makeHandler } from 'graphql-ws/use/@fastify/websocket';
import type { AppContext } from '../app-context.ts';
import { authenticateConnection } from '../auth/graphql-auth.ts';
import type { Caller } from '../request-scope.ts';
import type { TasklaneYoga } from './yoga.ts';

type Run = (args: ExecutionArgs) => Promise<ExecutionResult | AsyncIterable<ExecutionResult>> | ExecutionResult | AsyncIterable<ExecutionResult>;

/** Yoga's enveloped executors, carried to graphql-ws's `execute`/`subscribe` in `rootValue`. */
interface EnvelopedRoot {
  execute: Run;
  subscribe: Run;
}

/**
 * graphql-ws (`graphql-transport-ws`) on the same path as HTTP. Every operation runs through
 * Yoga's envelop pipeline, so parsing, validation, context, error masking and every future plugin
 * (auth, limits) behave exactly as over HTTP. The executors travel in `rootValue` because
 * graphql-ws calls `execute`/`subscribe` with the execution args alone.
 */
export function makeGraphqlWsHandler(yoga: TasklaneYoga, app: AppContext) {
  return makeHandler<Record<string, unknown>, { caller: Caller }>({
    onConnect: (ctx) => authenticateConnection(app, ctx),
    execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
    subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args),
    onSubscribe: async (ctx, _id, payload) => {
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
      return {
        schema,
        operationName: payload.operationName,
        document,
        variableValues: payload.variables,
        contextValue: await contextFactory(),
        rootValue,
      } satisfies ExecutionArgs;
    },
  });
}

import type { ExecutionArgs } from 'graphql';
import { makeHandler } from 'graphql-ws/use/@fastify/websocket';
import type { TasklaneYoga } from './yoga.ts';

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

/**
 * graphql-ws (`graphql-transport-ws`) on the same path as HTTP. Every operation runs through
 * Yoga's envelop pipeline, so parsing, validation, context, error masking and every future plugin
 * (auth, limits) behave exactly as over HTTP. The executor functions travel in `rootValue`,
 * because graphql-ws calls `execute`/`subscribe` with only the execution args.
 */
export function makeGraphqlWsHandler(yoga: TasklaneYoga) {
  return makeHandler({
    execute: (args) => (args.rootValue as EnvelopedRoot).execute(args) as ReturnType<NonNullable<Parameters<typeof makeHandler>[0]['execute']>>,
    subscribe: (args) =>
      (args.rootValue as EnvelopedRoot).subscribe(args) as ReturnType<NonNullable<Parameters<typeof makeHandler>[0]['subscribe']>>,
    onSubscribe: async (ctx, _id, payload) => {
      const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
        ...ctx,
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        params: payload,
      });
      let document;
      try {
        document = parse(payload.query);
      } catch (error) {
        return [error as import('graphql').GraphQLError];
      }
      const errors = validate(schema, document);
      if (errors.length > 0) return errors;
      const args: ExecutionArgs = {
        schema,
        operationName: payload.operationName,
        document,
        variableValues: payload.variables,
        contextValue: await contextFactory(),
        rootValue: { execute, subscribe } satisfies EnvelopedRoot,
      };
      return args;
    },
  });
}

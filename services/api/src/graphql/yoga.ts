import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { AppContext } from '../app-context.ts';
import { httpGraphqlCaller } from '../auth/graphql-auth.ts';
import type { Metrics } from '../metrics.ts';
import type { Caller } from '../request-scope.ts';
import { createGraphqlContext, type GraphqlContext } from './context.ts';
import { useArmor } from './armor.ts';
import { useFormPostGuard } from './csrf.ts';
import { maskError } from './errors.ts';
import { GRAPHIQL_DEFAULT_QUERY } from './graphiql-default-query.ts';
import { renderOfflineGraphiQL } from './graphiql-page.ts';
import { useDisableIntrospection } from './introspection.ts';
import { useJitQueries } from './jit-queries.ts';
import { useJsonParamsGuard } from './json-params-guard.ts';
import { schema } from './schema.ts';

export const GRAPHQL_PATH = '/graphql';

/** What the transports hand to Yoga: the Fastify request (and reply, over HTTP). */
export interface ServerContext {
  req: FastifyRequest;
  reply?: FastifyReply;
  /** Set by graphql-ws, which authenticates once per connection in `connection_init`. */
  caller?: Caller | undefined;
}

export type TasklaneYoga = YogaServerInstance<ServerContext, GraphqlContext>;

/** Options of {@link createTasklaneYoga}. */
export interface TasklaneYogaOptions {
  /** Counts open subscriptions; omitted, nothing is counted. */
  metrics?: Metrics | undefined;
  /** Where Yoga logs (masked errors with their cause, among others). */
  logger: FastifyBaseLogger;
}

/** The GraphQL engine shared by every transport: HTTP, SSE (Yoga's own) and graphql-ws. */
export function createTasklaneYoga(app: AppContext, { metrics, logger }: TasklaneYogaOptions): TasklaneYoga {
  const limits = app.config.hardening.graphql;
  return createYoga<ServerContext, GraphqlContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    // `request` is Yoga's Fetch request; its signal aborts when an HTTP or SSE client goes away.
    // HTTP and SSE authenticate each request here: an unauthenticated one gets 401 before it runs.
    context: async ({ req, request, caller }) =>
      createGraphqlContext(app, metrics, caller ?? (await httpGraphqlCaller(app, req.headers)), request?.signal, req?.headers),
    maskedErrors: { maskError },
    // Fastify has already buffered the body under MAX_BODY_BYTES (413 above it) before Yoga sees
    // it; Yoga's own limit would pipe every body through a second stream to count it again.
    maxRequestBodySize: false,
    // GraphiQL without introspection is an editor that cannot complete or check anything.
    graphiql: limits.introspection ? { title: 'Tasklane GraphQL', defaultQuery: GRAPHIQL_DEFAULT_QUERY, subscriptionsProtocol: 'WS' } : false,
    renderGraphiQL: renderOfflineGraphiQL,
    plugins: [useFormPostGuard(), useJsonParamsGuard(), ...useArmor(limits), ...(limits.introspection ? [] : [useDisableIntrospection()]), useJitQueries()],
    landingPage: false,
    // CORS is the server's one policy for every route (cors.ts); Yoga's own would answer
    // GraphQL's preflights and origins by rules of its own.
    cors: false,
    logging: {
      // Yoga logs several debug lines per request; below debug level they are not even built.
      debug: logger.level === 'debug' || logger.level === 'trace' ? (...args) => logger.debug({ yoga: args }, 'graphql') : () => {},
      info: (...args) => logger.info({ yoga: args }, 'graphql'),
      warn: (...args) => logger.warn({ yoga: args }, 'graphql'),
      error: (...args) => logger.error({ err: args.find((a) => a instanceof Error), yoga: args }, 'graphql error'),
    },
  });
}

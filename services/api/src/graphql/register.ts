import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.ts';
import type { Metrics } from '../metrics.ts';
import { graphqlTransportErrorHandler } from './transport-errors.ts';
import { answerDirectQuery } from './direct-query.ts';
import { guardClientMessages } from './client-message-guard.ts';
import { PREFLIGHT_HEADERS } from './csrf.ts';
import { makeGraphqlWsHandler } from './websocket-handler.ts';
import { createTasklaneYoga, GRAPHQL_PATH, type TasklaneYoga } from './yoga.ts';

/** Options of {@link registerGraphql}. */
export interface RegisterGraphqlOptions {
  /** Counts open subscriptions in these metrics; omitted, nothing is counted. */
  metrics?: Metrics | undefined;
}

async function handleHttp(yoga: TasklaneYoga, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const direct = await answerDirectQuery(yoga, req, reply);
  if (direct !== undefined) return reply.send(direct);
  // Passing the reply lets Yoga abort the request's signal when the client goes away, which only
  // an SSE stream needs: a query or mutation answers at once, and watching for the close costs
  // three listeners and an abort on every request.
  const response = await (postedNothing(req)
    ? yoga.fetch(`http://localhost${req.url}`, { method: req.method, headers: fetchHeaders(req), body: '' }, { req, reply })
    : wantsEventStream(req)
      ? yoga.handleNodeRequestAndResponse(req, reply, { req, reply })
      : yoga.handleNodeRequest(req, { req, reply }));
  response.headers.forEach((value, key) => void reply.header(key, value));
  reply.status(response.status);
  // A stream for SSE and incremental delivery, so events leave as they happen. Everything else is
  // one string already (Yoga's JSON result): sending it as such skips a stream pipeline per request
  // that cost more than executing the operation.
  if (isStreamed(response)) return reply.send(response.body);
  return reply.send(await response.text());
}

/**
 * A POST whose body Fastify found empty. Given the Node request, Yoga would wait to read the body
 * from the socket Fastify already drained; handed an empty Fetch request instead, it answers the
 * way it answers any body it cannot use (400).
 */
function postedNothing(req: FastifyRequest): boolean {
  return req.method === 'POST' && (req.body === undefined || req.body === null || (Buffer.isBuffer(req.body) && req.body.length === 0));
}

function fetchHeaders(req: FastifyRequest): [string, string][] {
  return Object.entries(req.headers).flatMap(([name, value]): [string, string][] =>
    value === undefined ? [] : Array.isArray(value) ? value.map((v): [string, string] => [name, v]) : [[name, value]],
  );
}

function wantsEventStream(req: FastifyRequest): boolean {
  return req.headers.accept?.includes('text/event-stream') ?? false;
}

function isStreamed(response: Response): boolean {
  const type = response.headers.get('content-type') ?? '';
  return type.startsWith('text/event-stream') || type.startsWith('multipart/');
}

/**
 * Mounts GraphQL on `/graphql`: GET and POST (and GraphiQL for browsers), SSE for subscriptions
 * (Yoga's, chosen by `accept: text/event-stream`), and graphql-ws on a WebSocket upgrade of the
 * same GET route.
 */
export async function registerGraphql(app: FastifyInstance, ctx: AppContext, { metrics }: RegisterGraphqlOptions = {}): Promise<void> {
  const yoga = createTasklaneYoga(ctx, { metrics, logger: app.log });
  const wsHandler = guardClientMessages(makeGraphqlWsHandler(yoga, ctx));

  // Encapsulated, so the body handling below applies to `/graphql` only, not to REST.
  await app.register(async (scope) => {
    // Yoga parses bodies itself (JSON, application/graphql-response+json, urlencoded, multipart)
    // and answers bad ones the way the GraphQL-over-HTTP spec asks; Fastify's own parsers would
    // refuse some of those types or answer malformed JSON in their own shape. The buffer keeps
    // Fastify's bodyLimit in force.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.setErrorHandler(graphqlTransportErrorHandler);

    const corsRequestHeaders = PREFLIGHT_HEADERS;
    scope.route({
      method: 'GET',
      url: GRAPHQL_PATH,
      config: { corsRequestHeaders },
      handler: (req, reply) => handleHttp(yoga, req, reply),
      wsHandler,
    });
    scope.route({
      method: ['POST', 'OPTIONS'],
      url: GRAPHQL_PATH,
      config: { corsRequestHeaders },
      handler: (req, reply) => handleHttp(yoga, req, reply),
    });
  });
}

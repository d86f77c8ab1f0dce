import type { FastifyReply, FastifyRequest } from 'fastify';
import { getOperationAST, type ExecutionResult } from 'graphql';
import type { GraphQLParams } from 'graphql-yoga';
import type { TasklaneYoga } from './yoga.ts';

/** The response media types a plain JSON query may be answered with, by the request's `accept`. */
const ANSWER_TYPE_BY_ACCEPT: ReadonlyMap<string, string> = new Map([
  ['', 'application/json; charset=utf-8'],
  ['*/*', 'application/json; charset=utf-8'],
  ['application/json', 'application/json; charset=utf-8'],
  ['application/graphql-response+json', 'application/graphql-response+json; charset=utf-8'],
]);

const PARAM_NAMES = new Set(['query', 'variables', 'operationName', 'extensions']);

/**
 * Yoga's envelop hooks look at the Fetch request for its method only: to refuse mutations over GET
 * and to mark a syntax error as a 400 GRAPHQL_PARSE_FAILED before its parser cache keeps the error
 * for the next request with the same text. This path builds no Fetch request (that is its saving),
 * so they are given one that says POST and nothing more; the context reads `signal` from it, which
 * only subscriptions use.
 */
const POST_REQUEST = Object.freeze({ method: 'POST' }) as unknown as Request;

/**
 * Answers the most common GraphQL request, a JSON POST of a query that succeeds, through Yoga's
 * envelop (the same parse and validation caches, Armor's limits, context and authentication,
 * executor and JIT) but without Yoga's Fetch layer. Turning a Fastify request into a Fetch
 * `Request`, its headers and body, and the answer back out of a `Response` cost more CPU than
 * running the query (`pnpm bench reads`).
 *
 * Everything else returns `undefined` and is handled by Yoga whole: other methods, body types and
 * `accept` values, batches, anything Yoga's parameter checks might refuse, syntax and validation
 * errors, mutations and subscriptions, a caller that fails authentication, and any result with an
 * error. Those are Yoga's to word (status codes, masking, `www-authenticate`), so a query that
 * failed here runs again there; that is safe because a query changes nothing. What this path
 * sends is byte for byte what Yoga would: its status (200), media type and JSON.
 */
export async function answerDirectQuery(yoga: TasklaneYoga, req: FastifyRequest, reply: FastifyReply): Promise<string | undefined> {
  const answerType = directAnswerType(req);
  if (answerType === undefined) return undefined;
  const params = plainParams(req.body);
  if (params === undefined) return undefined;
  const enveloped = yoga.getEnveloped({ req, reply, params, request: POST_REQUEST });
  let document;
  try {
    document = enveloped.parse(params.query);
  } catch {
    return undefined;
  }
  if (enveloped.validate(enveloped.schema, document).length > 0) return undefined;
  if (getOperationAST(document, params.operationName)?.operation !== 'query') return undefined;
  let result: ExecutionResult;
  try {
    const contextValue = await enveloped.contextFactory();
    result = (await enveloped.execute({
      schema: enveloped.schema,
      document,
      contextValue,
      variableValues: params.variables,
      operationName: params.operationName,
    })) as ExecutionResult;
  } catch {
    return undefined;
  }
  if (result.errors !== undefined || result.extensions !== undefined) return undefined;
  reply.header('content-type', answerType);
  return JSON.stringify(result);
}

function directAnswerType(req: FastifyRequest): string | undefined {
  if (req.method !== 'POST') return undefined;
  const type = req.headers['content-type'];
  if (type !== 'application/json' && type !== 'application/json; charset=utf-8') return undefined;
  return ANSWER_TYPE_BY_ACCEPT.get(req.headers.accept ?? '');
}

/** The body's parameters when they are the plain shape Yoga accepts as it is; else undefined. */
function plainParams(body: unknown): (GraphQLParams & { query: string }) | undefined {
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined;
  let params: unknown;
  try {
    params = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
  const record = params as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!PARAM_NAMES.has(key)) return undefined;
  const { query, variables, operationName, extensions } = record;
  if (typeof query !== 'string') return undefined;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
  if (operationName != null && typeof operationName !== 'string') return undefined;
  if (extensions != null && (typeof extensions !== 'object' || Array.isArray(extensions))) return undefined;
  return {
    query,
    variables: (variables ?? undefined) as Record<string, unknown> | undefined,
    operationName: (operationName ?? undefined) as string | undefined,
    extensions: (extensions ?? undefined) as Record<string, unknown> | undefined,
  };
}

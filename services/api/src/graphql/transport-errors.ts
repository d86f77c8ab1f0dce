import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerErrorCode } from '@tasklane/core';

/**
 * Errors Fastify raises for `/graphql` before Yoga sees the request (a body over `MAX_BODY_BYTES`,
 * a Content-Length that does not match), answered as a GraphQL response with the HTTP status the
 * GraphQL-over-HTTP spec allows (413, 400), in the media type the client accepts.
 */
export function graphqlTransportErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  let message = 'Unexpected error.';
  let code: ServerErrorCode = 'INTERNAL_SERVER_ERROR';
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    message = `Request body is larger than the server accepts (MAX_BODY_BYTES=${request.routeOptions.bodyLimit ?? 'limit'} bytes)`;
    code = 'PAYLOAD_TOO_LARGE';
  } else if (status < 500) {
    message = error.message;
    code = 'BAD_REQUEST';
  } else {
    request.log.error({ err: error }, 'GraphQL request failed');
  }
  const accept = request.headers.accept ?? '';
  const mediaType = accept.includes('application/graphql-response+json') ? 'application/graphql-response+json' : 'application/json';
  return reply
    .code(status)
    .header('content-type', `${mediaType}; charset=utf-8`)
    .send(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

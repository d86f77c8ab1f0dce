import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';

/**
 * Methods whose routes take no body. Fastify reads no body for GET and HEAD at all, but for
 * DELETE and OPTIONS it runs the parser of any Content-Type sent, even over an empty body.
 */
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

function isNoBody(request: FastifyRequest, body: string): boolean {
  return body === '' && BODYLESS_METHODS.has(request.method);
}

/**
 * The REST scope's body parsers: JSON, or 415. An empty body counts as no body on routes that
 * take none, whatever Content-Type came with it: many HTTP clients (a `requests.Session` with
 * JSON defaults, axios instances, generated SDKs) send `Content-Type: application/json` on every
 * request, and a legacy poller written that way must still be able to cancel with DELETE.
 */
export function registerRestBodyParsers(api: FastifyInstance): void {
  // Fastify's own JSON parser, with its prototype-poisoning checks.
  const parseJson = api.getDefaultJsonParser('error', 'error');
  api.removeAllContentTypeParsers();
  api.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (isNoBody(request, body as string)) return done(null, undefined);
    parseJson(request, body as string, done);
  });
  api.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    if (isNoBody(request, body as string)) return done(null, undefined);
    done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
  });
}

import type { Plugin } from 'graphql-yoga';

/** Headers that a browser can only send after a CORS preflight, so their presence proves one ran. */
export const PREFLIGHT_HEADERS = ['x-graphql-yoga-csrf', 'graphql-require-preflight', 'apollo-require-preflight'] as const;

/** The body types an HTML form (or `fetch` in no-cors mode) can POST without a preflight. */
const SIMPLE_BODY_TYPES = new Set(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']);

/**
 * Refuses GraphQL POSTs with a body type a page on another site could send without a preflight,
 * unless one of {@link PREFLIGHT_HEADERS} is present. Our clients (the SDK, the dashboard,
 * GraphiQL) all send `application/json`; GET stays open for non-browser clients, since the
 * cross-site guard already refuses GETs a browser marks cross-site and GET cannot mutate.
 */
export function useFormPostGuard(): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (request.method !== 'POST') return;
      const mediaType = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (!SIMPLE_BODY_TYPES.has(mediaType)) return;
      if (PREFLIGHT_HEADERS.some((name) => request.headers.has(name))) return;
      const message = `Content-Type ${mediaType} is refused (a cross-site form could send it); send application/json, or add the header ${PREFLIGHT_HEADERS[0]}: 1`;
      endResponse(
        new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] }), {
          status: 415,
          headers: { 'content-type': 'application/json; charset=utf-8' },
        }),
      );
    },
  };
}

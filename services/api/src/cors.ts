import type { FastifyInstance, FastifyRequest, HTTPMethods } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Request headers this route reads beyond `Authorization` (and `Content-Type` on routes with
     * a body): what a preflight for it allows a browser on another origin to send.
     */
    corsRequestHeaders?: readonly string[];
  }
}

/** Response headers that scripts on an allowed origin may read: the ones clients act on. */
export const CORS_EXPOSED_HEADERS = ['ETag', 'Location', 'Retry-After', 'Link', 'RateLimit', 'RateLimit-Policy', 'Idempotent-Replayed'] as const;

/** Browsers may cache a preflight's answer this long (Chromium caps it at 2 hours). */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

interface RouteEntry {
  pattern: RegExp;
  /** Request headers each method of this path takes. */
  methods: Map<string, readonly string[]>;
}

/** `/api/v1/tasks/:task_id/events` → a regular expression for concrete paths. */
function pathPattern(url: string): RegExp {
  const source = url
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

export interface CorsOptions {
  /** `ALLOWED_ORIGINS`: the origins, besides the API's own, that browsers may call it from. */
  allowedOrigins: readonly string[];
}

/**
 * One CORS policy for every HTTP route (REST, SSE, GraphQL, health, metrics, docs), from
 * `ALLOWED_ORIGINS`. The cross-site guard runs first and refuses other origins with 403, so what
 * reaches this hook with an `Origin` is either the API's own origin or an allowed one.
 *
 * - A preflight is answered here (204), for the methods the path has and the request headers the
 *   asked-for method's route reads, before authentication: browsers never send a key on one.
 * - Other requests from an allowed origin get `Access-Control-Allow-Origin` (that origin, never
 *   `*`) and the exposed headers. They are set on the raw response so that hijacked responses
 *   (SSE) and Yoga's carry them too, error answers included, so a script can read a 401 or 429.
 * - No `Access-Control-Allow-Credentials`: keys travel in `Authorization`, not in cookies.
 *
 * WebSocket handshakes are not subject to CORS; the guard checks their `Origin` with the same list.
 */
export function registerCors(app: FastifyInstance, { allowedOrigins }: CorsOptions): void {
  const allowed: ReadonlySet<string> = new Set(allowedOrigins);
  const routes = new Map<string, RouteEntry>();
  app.addHook('onRoute', (route) => {
    let entry = routes.get(route.url);
    if (!entry) {
      entry = { pattern: pathPattern(route.url), methods: new Map() };
      routes.set(route.url, entry);
    }
    const methods = (Array.isArray(route.method) ? route.method : [route.method]) as HTTPMethods[];
    for (const method of methods) {
      if (method === 'OPTIONS') continue;
      const headers = ['authorization', ...(BODY_METHODS.has(method) ? ['content-type'] : []), ...(route.config?.corsRequestHeaders ?? [])];
      entry.methods.set(method, headers);
    }
  });

  /** The methods (with their headers) of the route that serves `path`. */
  function methodsFor(path: string): Map<string, readonly string[]> | undefined {
    const found = new Map<string, readonly string[]>();
    for (const entry of routes.values()) {
      if (!entry.pattern.test(path)) continue;
      for (const [method, headers] of entry.methods) if (!found.has(method)) found.set(method, headers);
    }
    return found.size > 0 ? found : undefined;
  }

  const exposed = CORS_EXPOSED_HEADERS.join(', ');
  app.addHook('onRequest', async (request, reply) => {
    const origin = allowedOrigin(request, allowed);
    if (origin === undefined) return;
    reply.raw.setHeader('vary', 'Origin');
    const asked = request.headers['access-control-request-method'];
    if (request.method === 'OPTIONS' && typeof asked === 'string') {
      const path = request.url.split('?')[0] ?? '/';
      const methods = methodsFor(path);
      // No such path: the router's 404 answers, without CORS headers.
      if (!methods) return;
      const headers = methods.get(asked.toUpperCase()) ?? ['authorization'];
      return reply
        .code(204)
        .header('access-control-allow-origin', origin)
        .header('access-control-allow-methods', [...methods.keys()].join(', '))
        .header('access-control-allow-headers', headers.join(', '))
        .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS))
        .send();
    }
    reply.raw.setHeader('access-control-allow-origin', origin);
    reply.raw.setHeader('access-control-expose-headers', exposed);
  });
}

/** The request's `Origin` when it is one of `allowed` (the API's own needs no CORS headers). */
function allowedOrigin(request: FastifyRequest, allowed: ReadonlySet<string>): string | undefined {
  const origin = request.headers.origin;
  if (typeof origin !== 'string' || allowed.size === 0) return undefined;
  return allowed.has(origin) ? origin : undefined;
}

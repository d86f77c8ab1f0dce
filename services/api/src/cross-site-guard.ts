import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problem, sendProblem } from './rest/problem.ts';

/** Options of {@link registerCrossSiteGuard}. */
export interface CrossSiteGuardOptions {
  /** Origins besides the server's own that browsers may call from (`ALLOWED_ORIGINS`). */
  allowedOrigins: readonly string[];
  /**
   * Refuse requests whose `Host` is not a loopback name. Set when the server listens on loopback
   * with `AUTH=off`: a DNS-rebinding page sends its own origin as both `Origin` and `Host`, so the
   * origin check alone cannot tell it from the dashboard; its `Host` is still the attacker's name.
   */
  loopbackHostsOnly?: boolean;
}

interface RequestLine {
  method: string;
  headers: IncomingHttpHeaders;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** True when `origin` names this server as the client reached it (its `Host`), or is listed. */
function isAllowedOrigin(origin: string, host: string | undefined, allowed: readonly string[]): boolean {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  if (host !== undefined && parsed.host === host.toLowerCase()) return true;
  return allowed.includes(parsed.origin);
}

/**
 * Why a request must be refused as cross-site, or undefined to let it through.
 *
 * With `AUTH=off` on localhost, any web page the user visits could otherwise drive the API from
 * the browser (cross-site request forgery, or WebSocket hijacking: browsers do not apply CORS to
 * WebSockets). Browsers mark their requests: `Origin` on every cross-origin request other than a
 * plain GET, and on every WebSocket handshake; `Sec-Fetch-Site` on all of them. Non-browser clients
 * (SDKs, curl, workers, the graphql-http audits) send neither and are never refused here.
 * A top-level GET navigation (a link to GraphiQL or the dashboard from elsewhere) is allowed: it
 * shows the page to the user and cannot carry a mutation.
 */
export function crossSiteRefusal({ method, headers }: RequestLine, allowed: readonly string[]): string | undefined {
  const origin = single(headers.origin);
  if (origin !== undefined) {
    if (isAllowedOrigin(origin, single(headers.host), allowed)) return undefined;
    return `Origin ${origin.slice(0, 200)} may not call this API from a browser; add it to ALLOWED_ORIGINS to allow it`;
  }
  const site = single(headers['sec-fetch-site']);
  if (site !== 'cross-site') return undefined;
  const navigation = (method === 'GET' || method === 'HEAD') && single(headers['sec-fetch-mode']) === 'navigate';
  if (navigation) return undefined;
  return 'Cross-site browser requests are refused; call the API from its own origin or one listed in ALLOWED_ORIGINS';
}

const COMMON_LOOPBACK_HOST = /^(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/;

/** `localhost`, `*.localhost`, `127.x.x.x` and `[::1]`, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  // The names every local client sends, answered without parsing a URL on each request.
  if (COMMON_LOOPBACK_HOST.test(host)) return true;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

/** Why a request must be refused for its `Host` (see `loopbackHostsOnly`), or undefined. */
export function hostRefusal(headers: IncomingHttpHeaders): string | undefined {
  const host = single(headers.host);
  // HTTP/1.0 clients may send no Host; a browser always sends one.
  if (host === undefined || isLoopbackHost(host)) return undefined;
  return `Host ${host.slice(0, 200)} is not a loopback name; this server listens on loopback with AUTH=off, so it answers only localhost, 127.0.0.1 or [::1] (set AUTH=on to serve other names)`;
}

function refuse(request: FastifyRequest, reply: FastifyReply, reason: string): FastifyReply {
  const path = request.url.split('?')[0] ?? '';
  if (path.startsWith('/api/')) return sendProblem(reply, problem('forbidden', reason, { code: 'FORBIDDEN' }));
  // GraphQL clients read `errors`; a WebSocket handshake gets this as its HTTP answer.
  return reply
    .code(403)
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify({ errors: [{ message: reason, extensions: { code: 'FORBIDDEN' } }] }));
}

/**
 * Refuses cross-site browser requests on every route, WebSocket upgrades included (the hook runs
 * before `@fastify/websocket` completes a handshake, so a refused socket never opens).
 */
export function registerCrossSiteGuard(app: FastifyInstance, { allowedOrigins, loopbackHostsOnly = false }: CrossSiteGuardOptions): void {
  app.addHook('onRequest', async (request, reply) => {
    const reason = (loopbackHostsOnly ? hostRefusal(request.headers) : undefined) ?? crossSiteRefusal(request, allowedOrigins);
    if (reason !== undefined) return refuse(request, reply, reason);
  });
}

import type { FastifyInstance } from 'fastify';
import { renderDocsPage } from './docs-page.ts';
import { openApiComponents } from './openapi-components.ts';
import { collectRoutes, type Paths, type RouteTable } from './openapi-paths.ts';
import { contract } from './route-contract.ts';
import { JSON_CONTENT_TYPE } from './send-task.ts';

/**
 * The OpenAPI 3.1 description of the REST layer. Its `paths` are generated from the registered
 * routes (each declares its operation beside its handler, see route-contract.ts); the rest (info,
 * tags, shared components) is here. Served at `/api/v1/openapi.json` and rendered at `/api/docs`.
 */

const documentFrame = {
  openapi: '3.1.0',
  info: {
    title: 'Tasklane REST API',
    version: '1.0.0',
    summary: 'Long-running tasks (video and image generation): submit, poll, list, cancel, follow.',
    description:
      'The task-management contract\'s task endpoints, key for key, plus submission, conditional and long polling, ' +
      'pagination and push (SSE and WebSocket). Errors are RFC 9457 problem details. See docs/rest-api.md.',
    license: { name: 'MIT', identifier: 'MIT' },
  },
  servers: [{ url: '/' }],
  // Keys are required only with AUTH=on; with auth off every request is the default owner.
  security: [{ bearerAuth: [] }, {}],
  tags: [
    { name: 'tasks', description: 'The task-management contract and its extensions' },
    { name: 'push', description: 'Server-Sent Events and WebSocket updates' },
    { name: 'webhooks', description: 'Signed callbacks on task changes (docs/webhooks.md)' },
    { name: 'operations', description: 'Re-runs, bulk actions and pausing kinds, for operators' },
    { name: 'workers', description: 'The HTTP worker protocol: run tasks from any language (docs/worker-protocol.md)' },
    { name: 'meta', description: 'This document and its rendering' },
  ],
} as const;

const documentOperation = {
  security: [],
  tags: ['meta'],
  operationId: 'openApiDocument',
  summary: 'This document',
  responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
} as const;

const docsPageOperation = {
  security: [],
  tags: ['meta'],
  operationId: 'apiReference',
  summary: 'This document as a self-contained HTML page',
  responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } },
} as const;

/** The whole document: the routes' paths, then the declared ones that are not routes under `/api`. */
export function openApiDocument(routePaths: Paths, extraPaths: Paths) {
  for (const path of Object.keys(extraPaths)) {
    if (routePaths[path]) throw new Error(`OpenAPI: ${path} is both a route and a declared extra path`);
  }
  return { ...documentFrame, paths: { ...routePaths, ...extraPaths }, components: openApiComponents };
}

/** Starts collecting the routes of the `/api` scope; call before registering any of them. */
export function collectRestRoutes(api: FastifyInstance): RouteTable {
  return collectRoutes(api, openApiComponents.parameters);
}

/**
 * `GET /api/v1/openapi.json` and `/api/docs`, registered last: the document is built from every
 * route collected so far (these two included), once, and served as built.
 */
export function registerOpenApiRoutes(api: FastifyInstance, routes: RouteTable, extraPaths: Paths): void {
  const served = { json: '', html: '' };
  api.get('/v1/openapi.json', contract(documentOperation), (_request, reply) => reply.header('content-type', JSON_CONTENT_TYPE).send(served.json));
  api.get('/docs', contract(docsPageOperation), (_request, reply) => reply.header('content-type', 'text/html; charset=utf-8').send(served.html));
  const document = openApiDocument(routes.paths(), extraPaths);
  served.json = JSON.stringify(document);
  served.html = renderDocsPage(document);
}

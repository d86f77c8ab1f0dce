import type { FastifyInstance } from 'fastify';

/**
 * The `paths` of the OpenAPI document, generated from the routes as they are registered: each
 * route's `config.openapi` operation under its OpenAPI path, with a reference to the declared
 * component for each path parameter. A route without a contract is refused at startup, so the
 * document cannot leave one out, nor describe one that is not routed.
 */

export type PathItem = Record<string, unknown>;
export type Paths = Record<string, PathItem>;

/** `/api/v1/tasks/:task_id` → `/api/v1/tasks/{task_id}`, and its parameter names. */
export function openApiPath(url: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = url.replace(/:([A-Za-z0-9_]+)/g, (_match, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path, params };
}

/** The component parameter that describes path parameter `name` (`#/components/parameters/...`). */
function pathParameterRef(parameters: Record<string, { in?: string; name?: string }>, name: string, url: string): { $ref: string } {
  const found = Object.entries(parameters).find(([, p]) => p.in === 'path' && p.name === name);
  if (!found) throw new Error(`OpenAPI: no components.parameters entry describes path parameter "${name}" of ${url}`);
  return { $ref: `#/components/parameters/${found[0]}` };
}

export interface RouteTable {
  /** Every described operation so far, as OpenAPI `paths`, in registration order. */
  paths(): Paths;
}

/**
 * Collects the routes registered in `scope` from now on. `parameters` are the document's
 * component parameters, where path parameters are looked up.
 */
export function collectRoutes(scope: FastifyInstance, parameters: Record<string, { in?: string; name?: string }>): RouteTable {
  const paths: Paths = {};
  scope.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map((m) => String(m).toLowerCase());
    // Fastify adds a HEAD route for every GET; HEAD is not described (as before).
    const described = methods.filter((m) => m !== 'head');
    if (described.length === 0) return;
    const operation = route.config?.openapi;
    if (!operation) throw new Error(`REST route ${described.join(',').toUpperCase()} ${route.url} declares no OpenAPI operation (config.openapi)`);
    const { path, params } = openApiPath(route.url);
    const item = (paths[path] ??= params.length > 0 ? { parameters: params.map((name) => pathParameterRef(parameters, name, route.url)) } : {});
    for (const method of described) {
      if (item[method]) throw new Error(`OpenAPI: ${method.toUpperCase()} ${path} is described twice`);
      item[method] = operation;
    }
  });
  return { paths: () => paths };
}

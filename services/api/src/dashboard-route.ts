import { readFile, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The dashboard's built files. The API imports nothing from services/web: it serves whatever
 * `pnpm --filter @tasklane/web build` left in dist, or the folder TASKLANE_DASHBOARD_DIR names.
 */
const DEFAULT_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboard not built</title></head>
<body><h1>The dashboard has not been built</h1>
<p>Run <code>pnpm --filter @tasklane/web build</code> and reload this page.
(<code>pnpm start</code> builds it when it is missing.)</p></body></html>
`;

export interface DashboardOptions {
  /** Where the built files are. @default TASKLANE_DASHBOARD_DIR, else services/web/dist */
  dir?: string;
}

/** Serves the dashboard at /dashboard/. The folder is looked up per request, so a build made after the API started is picked up. */
export function registerDashboard(app: FastifyInstance, { dir = process.env['TASKLANE_DASHBOARD_DIR'] || DEFAULT_DIR }: DashboardOptions = {}): void {
  const root = resolve(dir);

  // Relative asset URLs need the trailing slash.
  app.get('/dashboard', (_request, reply) => reply.redirect('/dashboard/', 302));

  app.get<{ Params: { '*': string } }>('/dashboard/*', async (request, reply) => {
    const wanted = request.params['*'] || 'index.html';
    const file = resolve(root, wanted);
    const inside = relative(root, file);
    if (inside.startsWith('..') || isAbsolute(inside)) return reply.code(404).type('text/plain').send('Not found');
    if (!(await isFile(join(root, 'index.html')))) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    if (await isFile(file)) return sendFile(reply, file);
    // A missing asset is a 404; any other path gets the page, so a reload on a /dashboard/… URL works.
    if (extname(wanted) !== '') return reply.code(404).type('text/plain').send('Not found');
    return sendFile(reply, join(root, 'index.html'));
  });
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

async function sendFile(reply: FastifyReply, path: string): Promise<FastifyReply> {
  const type = CONTENT_TYPES[extname(path)] ?? 'application/octet-stream';
  // Vite puts a content hash in asset names, so those can be cached for good; the page must not be.
  const cache = path.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
  return reply.type(type).header('cache-control', cache).send(await readFile(path));
}

import type { FastifyInstance } from 'fastify';

/** Where the pages the API serves (GraphiQL, /api/docs, the dashboard) point their icon. */
export const FAVICON_PATH = '/favicon.svg';

// A lane with three tasks on it, in the dashboard's blue.
const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="6" fill="#1f4fd1"/>
<rect x="5" y="9" width="22" height="3" rx="1.5" fill="#fff" opacity=".5"/>
<rect x="5" y="20" width="22" height="3" rx="1.5" fill="#fff" opacity=".5"/>
<circle cx="9" cy="16" r="2.5" fill="#fff"/><circle cx="16" cy="16" r="2.5" fill="#fff"/><circle cx="23" cy="16" r="2.5" fill="#fff" opacity=".6"/>
</svg>
`;

/**
 * The API's icon. Browsers ask for /favicon.ico on every page without an icon link, and a 404
 * there is a failed request and a console error on every page: both paths answer the SVG.
 */
export function registerFavicon(app: FastifyInstance): void {
  for (const path of [FAVICON_PATH, '/favicon.ico']) {
    app.get(path, (_request, reply) => reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(FAVICON_SVG));
  }
}

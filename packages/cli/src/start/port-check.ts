import { createServer } from 'node:net';

/**
 * Whether HOST:PORT can be listened on right now, asked before anything starts so that a taken
 * port costs one line and no Postgres. The API still reports its own listen failure: another
 * program can take the port in between.
 */
export async function portProblem(host: string, port: number): Promise<string | undefined> {
  if (port === 0) return undefined;
  const code = await new Promise<string | undefined>((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'EUNKNOWN'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
  if (code === undefined) return undefined;
  if (code === 'EADDRINUSE') return `port ${port} is already in use on ${host}; stop the program holding it, or set PORT to another port (PORT=${port === 65535 ? 8000 : port + 1})`;
  if (code === 'EACCES') return `not allowed to listen on port ${port}; ports below 1024 need privileges: set PORT to 1024 or above (PORT=8000)`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen on HOST=${host}: no such address on this machine; set HOST to one of its addresses (HOST=127.0.0.1)`;
  return `cannot listen on ${host}:${port} (${code}); set PORT or HOST to another value`;
}

import { createServer } from 'node:net';
import { listenProblem } from '@tasklane/core';

/**
 * What stops HOST:PORT from being listened on right now, asked before anything starts so that a
 * taken port costs one line and no Postgres. The API still reports its own listen failure:
 * another program can take the port in between.
 */
export async function portProblem(host: string, port: number): Promise<string | undefined> {
  if (port === 0) return undefined;
  const code = await new Promise<string | undefined>((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'EUNKNOWN'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
  return code === undefined ? undefined : listenProblem(code, host, port);
}

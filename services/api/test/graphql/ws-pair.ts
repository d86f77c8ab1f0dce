import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer, type ClientOptions, type ServerOptions } from 'ws';
import { afterEach } from 'vitest';

/**
 * A plain `ws` server on a free port and one client connected to it, for tests of what sits on
 * a server socket; every server is closed (its sockets terminated) after each test.
 */
export function wsPairs(): (options?: { server?: ServerOptions; client?: ClientOptions; onConnection?: (socket: WebSocket) => void }) => Promise<{ serverSocket: WebSocket; client: WebSocket }> {
  const servers: WebSocketServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      for (const client of server.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  });
  return async ({ server: serverOptions = {}, client: clientOptions = {}, onConnection } = {}) => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, ...serverOptions });
    servers.push(server);
    if (onConnection) server.on('connection', onConnection);
    await new Promise((resolve) => server.once('listening', resolve));
    const serverSocket = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, clientOptions);
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
    return { serverSocket: await serverSocket, client };
  };
}

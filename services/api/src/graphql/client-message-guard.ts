import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { fitCloseReason, SocketClose } from '@tasklane/core';

/** Message types only a server sends; graphql-ws throws on receiving them. */
const SERVER_ONLY_TYPES = new Set(['connection_ack', 'next', 'error']);

/** graphql-ws's close code for a message the protocol does not allow. */

type WsHandler = (this: FastifyInstance, socket: WebSocket, request: FastifyRequest) => void;

/**
 * graphql-ws validates incoming messages but throws on a well-formed one of a server-only type
 * (`{"type":"connection_ack"}` from a client), which its Fastify adapter answers by closing with
 * 4500 Internal Server Error. It is the client's protocol error: this closes such a socket with
 * 4400 first, as graphql-ws does for every other invalid message (its own later 4500 close is then
 * a no-op on the closing socket).
 */
export function guardClientMessages(handler: WsHandler): WsHandler {
  return function guarded(this: FastifyInstance, socket, request) {
    // graphql-ws puts client-chosen ids in some close reasons ("Subscriber for <id> already
    // exists"); a long id made `ws` throw and the socket close with 4500 instead.
    const close = socket.close.bind(socket);
    socket.close = (code?: number, reason?: string | Buffer) => close(code, typeof reason === 'string' ? fitCloseReason(reason) : reason);
    // Registered before graphql-ws's own listener, so it runs first for every message.
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      let message: unknown;
      try {
        message = JSON.parse(String(data));
      } catch {
        return;
      }
      const type = typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
      if (typeof type === 'string' && SERVER_ONLY_TYPES.has(type)) socket.close(SocketClose.BadRequest, `A client may not send ${type} messages`);
    });
    handler.call(this, socket, request);
  };
}

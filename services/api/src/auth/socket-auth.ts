import type { FastifyRequest } from 'fastify';
import { fitCloseReason, SocketClose } from '@tasklane/core';
import type { WebSocket } from 'ws';
import type { AppContext } from '../app-context.ts';
import { authenticate, type Caller } from '../request-scope.ts';
import { ForbiddenError } from './forbidden-error.ts';
import { UnauthenticatedError } from './unauthenticated-error.ts';

export interface SocketAuthOptions {
  /** How long a socket without an `Authorization` header may take to send its key. @default 10000 */
  firstMessageTimeoutMs?: number;
}

/** The `authorization` (or `Authorization`) member of a JSON object message, if it has one. */
export function authorizationMember(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const record = payload as Record<string, unknown>;
  const value = record['authorization'] ?? record['Authorization'];
  return typeof value === 'string' ? value : undefined;
}

function firstMessage(socket: WebSocket, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const done = (value: string | undefined) => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      socket.off('close', onClose);
      resolve(value);
    };
    const onMessage = (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      if (isBinary) return done(undefined);
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'));
      } catch {
        return done(undefined);
      }
      done(authorizationMember(parsed));
    };
    const onClose = () => done(undefined);
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('message', onMessage);
    socket.once('close', onClose);
  });
}

/**
 * Authenticates a `/ws/tasks/{id}` socket. The key comes from the upgrade request's
 * `Authorization: Bearer …` header or, for browsers (which cannot set that header on a WebSocket),
 * from the first message: `{"authorization": "Bearer …"}`. No key (in time) closes with 4401, a
 * bad one with 4403; either way the result is undefined and the socket is closed. With `AUTH=off`
 * the socket is accepted at once and no message is awaited.
 */
export async function authenticateSocket(
  ctx: AppContext,
  socket: WebSocket,
  request: FastifyRequest,
  { firstMessageTimeoutMs = 10_000 }: SocketAuthOptions = {},
): Promise<Caller | undefined> {
  let authorization = request.headers.authorization;
  if (ctx.config.auth === 'on' && (authorization === undefined || authorization.trim() === '')) {
    authorization = await firstMessage(socket, firstMessageTimeoutMs);
  }
  try {
    return await authenticate(ctx, authorization);
  } catch (error) {
    if (socket.readyState !== socket.OPEN) return undefined;
    if (error instanceof UnauthenticatedError) {
      socket.close(error.reason === 'missing' ? SocketClose.Unauthorized : SocketClose.Forbidden, fitCloseReason(error.message));
    } else if (error instanceof ForbiddenError) {
      socket.close(SocketClose.Forbidden, fitCloseReason(error.message));
    } else {
      request.log.warn({ err: error }, 'task socket authentication failed');
      socket.close(SocketClose.InternalError, 'Authentication is unavailable; reconnect to retry');
    }
    return undefined;
  }
}

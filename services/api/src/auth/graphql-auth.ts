import type { IncomingHttpHeaders } from 'node:http';
import type { WebSocket } from 'ws';
import type { AppContext } from '../app-context.ts';
import { fitCloseReason, SocketClose } from '@tasklane/core';
import { GraphQLError } from 'graphql';
import { authenticate, type Caller } from '../request-scope.ts';
import { ForbiddenError } from './forbidden-error.ts';
import { authorizationMember } from './socket-auth.ts';
import { bearerChallenge, UnauthenticatedError } from './unauthenticated-error.ts';

/**
 * The caller of a GraphQL request over HTTP or SSE. A missing or bad key becomes a GraphQL error
 * with `extensions.code` UNAUTHENTICATED that Yoga answers with HTTP 401 and a Bearer challenge.
 * The error carries no `originalError`, so error masking passes it through as it is.
 */
export async function httpGraphqlCaller(app: AppContext, headers: IncomingHttpHeaders): Promise<Caller> {
  try {
    return await authenticate(app, headers.authorization);
  } catch (error) {
    if (error instanceof ForbiddenError) throw new GraphQLError(error.message, { extensions: { code: error.code, http: { status: 403 } } });
    if (!(error instanceof UnauthenticatedError)) throw error;
    throw new GraphQLError(error.message, {
      extensions: { code: error.code, http: { status: 401, headers: { 'www-authenticate': bearerChallenge(error) } } },
    });
  }
}

/** What graphql-ws's `onConnect` sees of a connection. */
export interface ConnectionAuthContext {
  connectionParams?: Readonly<Record<string, unknown>> | undefined;
  extra: { socket: WebSocket; request: { headers: IncomingHttpHeaders }; caller?: Caller | undefined };
}

/**
 * graphql-ws `onConnect`: the key comes from the `connection_init` payload
 * (`{"authorization": "Bearer …"}`, `Authorization` also accepted), else from the upgrade
 * request's header. No key closes the socket with 4401, a bad one with 4403; otherwise the caller
 * is kept on `extra` for every operation of the connection.
 */
export async function authenticateConnection(app: AppContext, ctx: ConnectionAuthContext): Promise<boolean> {
  const authorization = authorizationMember(ctx.connectionParams) ?? ctx.extra.request.headers.authorization;
  try {
    ctx.extra.caller = await authenticate(app, authorization);
    return true;
  } catch (error) {
    if (error instanceof ForbiddenError) {
      ctx.extra.socket.close(SocketClose.Forbidden, fitCloseReason(error.message));
      return false;
    }
    if (!(error instanceof UnauthenticatedError)) throw error;
    // Closing here picks the code; graphql-ws's own close after `false` is then a no-op.
    ctx.extra.socket.close(error.reason === 'missing' ? SocketClose.Unauthorized : SocketClose.Forbidden, fitCloseReason(error.message));
    return false;
  }
}

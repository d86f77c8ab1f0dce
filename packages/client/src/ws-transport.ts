import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { raceAbort } from './abortable.ts';
import { SocketClose } from '@tasklane/core/close-codes';
import { TasklaneConnectionError, TasklaneRequestError, type GraphqlErrorInfo } from './errors.ts';

export interface WsTransportOptions {
  url: string;
  /** The WebSocket class; null or undefined: none, so every subscription fails at once. */
  webSocketImpl: unknown;
  apiKey: string | undefined;
  reconnectAttempts: number;
  reconnectDelayMs: (attempt: number) => number;
}

/** One live subscription: read its data one event at a time; `close` ends it. */
export interface SubscriptionReader<TData> {
  /** The next event's data; done when the server completed the stream. Throws typed errors. */
  next(): Promise<IteratorResult<TData, undefined>>;
  close(): void;
}

/** Whether the shared socket is up: `connected` after every handshake, `disconnected` when it closes. */
export type ConnectionState = 'connected' | 'disconnected';

export interface WsTransport {
  subscribe<TData>(query: string, variables: Record<string, unknown>, signal?: AbortSignal): SubscriptionReader<TData>;
  /** Calls `listener` on every change of the socket's state; returns a function that stops it. */
  onConnectionChange(listener: (state: ConnectionState) => void): () => void;
  close(): Promise<void>;
}

/**
 * graphql-ws, opened on the first subscription and shared by all of them. After a socket that had
 * been connected drops, graphql-ws reconnects and subscribes every open operation again; a socket
 * that never connected (wrong address, nothing listening) fails at once instead, so `waitFor` can
 * fall back to polling without sitting through the reconnect schedule.
 */
const NO_WEBSOCKET = 'no WebSocket implementation: pass webSocketImpl (the ws package on Node 20)';

export function createWsTransport(options: WsTransportOptions): WsTransport {
  let client: Client | undefined;
  let connectedOnce = false;
  let handshaking = false;
  const listeners = new Set<(state: ConnectionState) => void>();
  const emit = (state: ConnectionState) => listeners.forEach((listener) => listener(state));

  const open = (): Client => {
    // graphql-ws would look for a global WebSocket itself; the client already decided there is none.
    if (options.webSocketImpl === undefined || options.webSocketImpl === null) throw new Error(NO_WEBSOCKET);
    return (client ??= createClient({
      url: options.url,
      webSocketImpl: options.webSocketImpl,
      lazy: true,
      connectionParams: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : undefined,
      retryAttempts: options.reconnectAttempts,
      retryWait: (attempt) => new Promise((resolve) => setTimeout(resolve, options.reconnectDelayMs(attempt))),
      // By default graphql-ws retries only close events; a refused reconnect is an error event,
      // and the server being restarted is exactly when a retry is wanted.
      shouldRetry: () => connectedOnce,
      on: {
        connecting: () => (handshaking = true),
        connected: () => {
          handshaking = false;
          connectedOnce = true;
          emit('connected');
        },
        closed: () => {
          handshaking = false;
          emit('disconnected');
        },
      },
    }));
  };

  return {
    subscribe<TData>(query: string, variables: Record<string, unknown>, signal?: AbortSignal): SubscriptionReader<TData> {
      const events: FormattedExecutionResult<Record<string, unknown>, unknown>[] = [];
      let ended = false;
      let failure: unknown;
      let wake: (() => void) | undefined;
      const settle = () => {
        wake?.();
        wake = undefined;
      };
      let dispose: () => void = () => {};
      try {
        dispose = open().subscribe(
          { query, variables },
          {
            next: (event) => {
              events.push(event);
              settle();
            },
            error: (error) => {
              failure = toClientError(error, options.url);
              ended = true;
              settle();
            },
            complete: () => {
              ended = true;
              settle();
            },
          },
        );
      } catch (error) {
        // open() throws synchronously when there is no WebSocket implementation at all.
        failure = toClientError(error, options.url);
        ended = true;
      }

      return {
        async next() {
          for (;;) {
            const event = events.shift();
            if (event) {
              if (event.errors && event.errors.length > 0) throw TasklaneRequestError.fromGraphqlErrors(event.errors as GraphqlErrorInfo[]);
              if (!event.data) throw new TasklaneRequestError('Subscription event without data', 'BAD_RESPONSE');
              return { done: false, value: event.data as TData };
            }
            if (failure) throw failure;
            if (ended) return { done: true, value: undefined };
            await raceAbort(new Promise<void>((resolve) => (wake = resolve)), signal);
          }
        },
        close() {
          ended = true;
          dispose();
          settle();
        },
      };
    },

    onConnectionChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async close() {
      const current = client;
      client = undefined;
      // dispose() waits for a pending handshake to finish, which a server that never acknowledges
      // would make forever; terminate() drops such a socket at once.
      if (handshaking) current?.terminate();
      else await current?.dispose();
    },
  };
}

interface CloseEventLike {
  code: number;
  reason: string;
}

function isCloseEvent(value: unknown): value is CloseEventLike {
  return typeof value === 'object' && value !== null && 'code' in value && 'reason' in value && typeof value.code === 'number';
}

/** graphql-ws reports failures as GraphQL error arrays, close events, or errors and error events. */
function toClientError(error: unknown, url: string): Error {
  if (Array.isArray(error)) return TasklaneRequestError.fromGraphqlErrors(error as GraphqlErrorInfo[]);
  if (isCloseEvent(error)) {
    // The server closes with 4401/4403 when the connection's credentials are refused.
    if (error.code === SocketClose.Unauthorized) return new TasklaneRequestError(error.reason || 'Unauthorized', 'UNAUTHENTICATED');
    if (error.code === SocketClose.Forbidden) return new TasklaneRequestError(error.reason || 'Forbidden', 'FORBIDDEN');
    return new TasklaneConnectionError(`WebSocket ${url} closed (${error.code}${error.reason ? ` ${error.reason}` : ''})`, url, { cause: error });
  }
  const message = typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
  return new TasklaneConnectionError(`Cannot use WebSocket ${url}: ${message || 'connection failed'}`, url, { cause: error });
}

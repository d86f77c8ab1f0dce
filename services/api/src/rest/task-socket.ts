import type { FastifyInstance } from 'fastify';
import { TaskNotFoundError, isTaskId } from '@tasklane/core';
import type { AppContext } from '../app-context.ts';
import { authenticateSocket } from '../auth/socket-auth.ts';
import { keepAlive } from '../socket-keep-alive.ts';
import { RateLimitedError } from '../rate-limit/rate-limited-error.ts';
import { fitCloseReason, SocketClose, taskBodyJson } from '@tasklane/core';

/**
 * The seed's planned `ws://host:8000/ws/tasks/{task_id}`: the GET body on connect and on every
 * change, then a normal close (1000) after a terminal state. With `AUTH=on` the key comes in the
 * `Authorization` header or the first message (see `authenticateSocket`); other messages are ignored.
 */
export function registerTaskSocket(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Params: { task_id: string } }>('/ws/tasks/:task_id', { websocket: true }, (socket, request) => {
    const id = request.params.task_id;
    const controller = new AbortController();
    socket.once('close', () => controller.abort());
    // A task may run for an hour without a change: pings keep proxies from closing the socket, and
    // a client that vanished is let go with its subscription slot.
    keepAlive(socket, ctx.config.keepAliveSeconds * 1000);
    void (async () => {
      let release: (() => void) | undefined;
      try {
        const caller = await authenticateSocket(ctx, socket, request);
        if (!caller) return;
        request.caller = caller;
        // After authenticating, so that a caller without a key learns nothing, not even this.
        if (!isTaskId(id)) {
          if (socket.readyState === socket.OPEN) socket.close(SocketClose.NotFound, fitCloseReason(`Task ${id} not found`));
          return;
        }
        release = await ctx.limits.openSubscription(caller.owner);
        for await (const task of ctx.feed.follow(id, { ...caller.scope, signal: controller.signal })) {
          if (socket.readyState !== socket.OPEN) return;
          socket.send(taskBodyJson(task));
        }
        if (socket.readyState === socket.OPEN) {
          socket.close(SocketClose.Finished, controller.signal.aborted ? 'Client closed' : 'Task finished');
        }
      } catch (error) {
        if (socket.readyState !== socket.OPEN) return;
        if (error instanceof TaskNotFoundError) {
          socket.close(SocketClose.NotFound, fitCloseReason(`Task ${id} not found`));
        } else if (error instanceof RateLimitedError) {
          socket.close(SocketClose.RateLimited, fitCloseReason(error.message));
        } else {
          request.log.warn({ err: error, taskId: id }, 'task socket stopped');
          socket.close(SocketClose.InternalError, 'Task updates stopped; reconnect to resume');
        }
      } finally {
        release?.();
      }
    })();
  });
}

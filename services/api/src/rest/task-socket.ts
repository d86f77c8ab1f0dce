import type { FastifyInstance } from 'fastify';
import { TaskNotFoundError, isTaskId } from '@tasklane/core';
import type { AppContext } from '../app-context.ts';
import { authenticateSocket } from '../auth/socket-auth.ts';
import { RateLimitedError } from '../rate-limit/rate-limited-error.ts';
import { fitCloseReason } from '../close-reason.ts';
import { taskBodyJson } from '@tasklane/core';

/** Close codes of the task socket: 1000 after the final state, 4xxx (application range) for errors. */
export const TaskSocketClose = {
  /** The task reached completed, failed or cancelled; its final state was the last message. */
  Finished: 1000,
  /** The server is stopping; reconnect elsewhere. */
  GoingAway: 1001,
  /** The feed broke (e.g. the database went away); reconnect to resume. */
  InternalError: 1011,
  /** No such task, or not the caller's. */
  NotFound: 4404,
  /** The owner holds as many open subscriptions as allowed (`RATE_LIMIT_SUBSCRIPTIONS`). */
  RateLimited: 4429,
} as const;

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
    void (async () => {
      let release: (() => void) | undefined;
      try {
        const caller = await authenticateSocket(ctx, socket, request);
        if (!caller) return;
        request.caller = caller;
        // After authenticating, so that a caller without a key learns nothing, not even this.
        if (!isTaskId(id)) {
          if (socket.readyState === socket.OPEN) socket.close(TaskSocketClose.NotFound, fitCloseReason(`Task ${id} not found`));
          return;
        }
        release = await ctx.limits.openSubscription(caller.owner);
        for await (const task of ctx.feed.follow(id, { ...caller.scope, signal: controller.signal })) {
          if (socket.readyState !== socket.OPEN) return;
          socket.send(taskBodyJson(task));
        }
        if (socket.readyState === socket.OPEN) {
          socket.close(TaskSocketClose.Finished, controller.signal.aborted ? 'Client closed' : 'Task finished');
        }
      } catch (error) {
        if (socket.readyState !== socket.OPEN) return;
        if (error instanceof TaskNotFoundError) {
          socket.close(TaskSocketClose.NotFound, `Task ${id} not found`);
        } else if (error instanceof RateLimitedError) {
          socket.close(TaskSocketClose.RateLimited, error.message.slice(0, 120));
        } else {
          request.log.warn({ err: error, taskId: id }, 'task socket stopped');
          socket.close(TaskSocketClose.InternalError, 'Task updates stopped; reconnect to resume');
        }
      } finally {
        release?.();
      }
    })();
  });
}

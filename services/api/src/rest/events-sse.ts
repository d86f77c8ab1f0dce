import type { FastifyInstance } from 'fastify';
import { isTaskId, isTerminal } from '@tasklane/core';
import type { AppContext } from '../app-context.ts';
import { openRestSubscription } from '../rate-limit/rest-rate-limit.ts';
import { HttpProblem } from './problem.ts';
import { taskBodyJson } from './task-body.ts';

export interface TaskEventsOptions {
  /** Interval of the `: keep-alive` comment that keeps proxies from closing an idle stream. @default 15000 */
  keepAliveMs?: number;
}

/** `Last-Event-ID` is the last version the client saw; anything else is treated as absent. */
function lastEventId(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string' || !/^\d{1,15}$/.test(header.trim())) return undefined;
  return Number(header.trim());
}

/**
 * `GET /api/v1/tasks/{task_id}/events`: Server-Sent Events, one `task` event per state (id = the
 * task's version, data = the GET body), ending after a terminal state. A reconnecting EventSource
 * sends `Last-Event-ID` and gets only newer states. When there is nothing left to send (the task
 * is finished and the client has its last state) the answer is 204, which tells EventSource to
 * stop reconnecting instead of looping on an empty stream.
 */
export function registerTaskEvents(api: FastifyInstance, ctx: AppContext, { keepAliveMs = 15_000 }: TaskEventsOptions = {}): void {
  api.get<{ Params: { task_id: string } }>('/v1/tasks/:task_id/events', { config: { corsRequestHeaders: ['last-event-id'] } }, async (request, reply) => {
    const id = request.params.task_id;
    if (!isTaskId(id)) throw HttpProblem.taskNotFound(id);
    const { scope } = request.caller;
    // Read first, so an unknown id is a plain 404 problem rather than a stream that ends at once.
    const current = await ctx.store.get(id, scope);
    if (!current) throw HttpProblem.taskNotFound(id);
    const afterVersion = lastEventId(request.headers['last-event-id']);
    if (afterVersion !== undefined && afterVersion >= current.version && isTerminal(current.status)) {
      return reply.code(204).send();
    }
    // An open stream holds one of the owner's subscription slots (429 when they are all taken).
    const release = await openRestSubscription(ctx.limits, reply, request.caller.owner);

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // Tells nginx-style proxies not to buffer the stream.
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const controller = new AbortController();
    const onClose = () => controller.abort();
    res.once('close', onClose);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
    try {
      // follow() subscribes, then reads, so no change between our read above and now is lost.
      for await (const task of ctx.feed.follow(id, { ...scope, afterVersion, signal: controller.signal })) {
        res.write(`event: task\nid: ${task.version}\ndata: ${taskBodyJson(task)}\n\n`);
      }
    } catch (error) {
      // Headers are gone; the best we can do is say so in the stream and end it.
      request.log.warn({ err: error, taskId: id }, 'task event stream stopped');
      if (!res.destroyed) res.write(`event: error\ndata: ${JSON.stringify({ detail: 'The event stream stopped; reconnect to resume' })}\n\n`);
    } finally {
      clearInterval(keepAlive);
      release();
      res.off('close', onClose);
      if (!res.destroyed) res.end();
    }
  });
}

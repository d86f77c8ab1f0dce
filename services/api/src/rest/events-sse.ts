import type { FastifyInstance } from 'fastify';
import { fullTaskBody, isTaskId, isTerminal, taskBodyJson, type Task } from '@tasklane/core';
import { attemptHistories, pushedPlace, queuePlaces } from '@tasklane/db';
import type { AppContext } from '../app-context.ts';
import { openRestSubscription } from '../rate-limit/rest-rate-limit.ts';
import { HttpProblem } from './problem.ts';
import { eventsViewParameter, taskEventsOperation } from './push-contract.ts';
import { contract } from './route-contract.ts';

/**
 * `Last-Event-ID` names the last version the client saw: `7`, or `7.42` for a queue push of version
 * 7 (see {@link eventOf}); anything else is treated as absent.
 */
function lastEventId(header: string | string[] | undefined): number | undefined {
  const match = typeof header === 'string' ? /^(\d{1,15})(?:\.\d{1,15})?$/.exec(header.trim()) : null;
  return match ? Number(match[1]) : undefined;
}

/**
 * One SSE event for a state. Plain: the seed's GET body, id = the version. Full view (`?view=full`):
 * the full body with `queue` and the place in words as `message`; a pending task's place moves
 * while its row (and so its version) stays, so a queue push goes out as the same version again
 * with id `<version>.<push number>`. The integer part alone is what resumption needs: a client
 * that comes back with `7.42` is past version 7, and gets the state again with its place as it is
 * now if the task is still pending at 7. The plain stream never sends a push: the seed's keys do
 * not include the place, so it would repeat an identical body, and its ids stay plain versions
 * for clients that parse them as numbers.
 */
async function eventOf(ctx: AppContext, task: Task, full: boolean): Promise<string> {
  if (!full) return `event: task\nid: ${task.version}\ndata: ${taskBodyJson(task)}\n\n`;
  const pushed = pushedPlace(task);
  // The full body is the full view's, attempts included: the stream already answered only the
  // task's owner (or an admin), so the history is read unscoped.
  const [place, attempts] = await Promise.all([
    pushed?.place ?? (task.status === 'pending' ? queuePlaces(ctx.pool, [task], ctx.config.caps).then((places) => places.get(task.id)) : undefined),
    attemptHistories(ctx.pool, [task.id]).then((byTask) => byTask.get(task.id) ?? []),
  ]);
  const id = pushed ? `${task.version}.${pushed.seq}` : String(task.version);
  return `event: task\nid: ${id}\ndata: ${JSON.stringify(fullTaskBody(task, place, attempts))}\n\n`;
}

export function registerTaskEvents(api: FastifyInstance, ctx: AppContext): void {
  // The `: keep-alive` comment keeps proxies from closing an idle stream (`KEEPALIVE_SECONDS`).
  const keepAliveMs = ctx.config.keepAliveSeconds * 1000;
  const options = contract(taskEventsOperation, { corsRequestHeaders: ['last-event-id'] });
  const views: readonly (string | undefined)[] = eventsViewParameter.schema.enum;
  api.get<{ Params: { task_id: string }; Querystring: { view?: string } }>('/v1/tasks/:task_id/events', options, async (request, reply) => {
    const id = request.params.task_id;
    const view = request.query.view;
    if (view !== undefined && !views.includes(view)) throw HttpProblem.invalid('view', 'must be "full", or left out for the seed\'s keys only');
    const full = view === 'full';
    if (!isTaskId(id)) throw HttpProblem.taskNotFound(id);
    const { scope } = request.caller;
    // Read first, so an unknown id is a plain 404 problem rather than a stream that ends at once.
    const current = await ctx.store.get(id, scope);
    if (!current) throw HttpProblem.taskNotFound(id);
    let afterVersion = lastEventId(request.headers['last-event-id']);
    if (afterVersion !== undefined && afterVersion >= current.version && isTerminal(current.status)) {
      return reply.code(204).send();
    }
    // Its place may have moved while the client was away, with no new version to show for it.
    if (full && afterVersion === current.version && current.status === 'pending') afterVersion -= 1;
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
      for await (const task of ctx.feed.follow(id, { ...scope, afterVersion, signal: controller.signal, queuePushes: full })) {
        const event = await eventOf(ctx, task, full);
        if (!res.destroyed) res.write(event);
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

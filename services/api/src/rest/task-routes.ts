import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { TaskNotCancellableError, TaskNotFoundError, isTaskId, isTerminal, type Task } from '@tasklane/core';
import { attemptHistories, queuePlaces, type Scope } from '@tasklane/db';
import type { AppContext } from '../app-context.ts';
import { parseWait, versionFromIfNoneMatch } from './polling.ts';
import { openApiComponents } from './openapi-components.ts';
import { HttpProblem, problem, sendProblem } from './problem.ts';
import { contract } from './route-contract.ts';
import { JSON_CONTENT_TYPE, sendTask } from './send-task.ts';
import { cancelledBody, fullTaskBody } from '@tasklane/core';
import { cancelTaskOperation, getTaskOperation } from './task-contract.ts';

interface TaskParams {
  task_id: string;
}

/** The views `?view=` names, as its parameter declares them. */
const VIEWS: readonly (string | undefined)[] = openApiComponents.parameters.View.schema.enum;

/**
 * Waits until the task's version passes `afterVersion`, for at most `seconds`, or until the client
 * goes away (so an abandoned long poll leaves no listener behind). Undefined when nothing newer came.
 */
async function waitForNewer(
  ctx: AppContext,
  id: string,
  afterVersion: number,
  seconds: number,
  scope: Scope,
  response: ServerResponse,
): Promise<Task | undefined> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), seconds * 1000);
  const onClose = () => controller.abort();
  response.once('close', onClose);
  try {
    for await (const task of ctx.feed.follow(id, { ...scope, afterVersion, signal: controller.signal })) return task;
    return undefined;
  } finally {
    clearTimeout(timer);
    response.off('close', onClose);
  }
}

/** `GET` and `DELETE /api/v1/tasks/{task_id}`, the seed's two per-task endpoints. */
export function registerTaskRoutes(api: FastifyInstance, ctx: AppContext): void {
  // The hot path: one indexed read, one hand-built JSON string. Ids that cannot be ours are
  // answered as unknown without touching the database.
  const getOptions = contract(getTaskOperation, { corsRequestHeaders: ['if-none-match'] });
  api.get<{ Params: TaskParams; Querystring: { wait?: string; view?: string } }>('/v1/tasks/:task_id', getOptions, async (request, reply) => {
    const id = request.params.task_id;
    const wait = parseWait(request.query.wait);
    const view = request.query.view;
    if (view !== undefined && !VIEWS.includes(view)) throw HttpProblem.invalid('view', 'must be "full", or left out for the seed\'s keys only');
    if (!isTaskId(id)) throw HttpProblem.taskNotFound(id);
    const { scope } = request.caller;
    let task = await ctx.store.get(id, scope);
    if (!task) throw HttpProblem.taskNotFound(id);
    const ifNoneMatch = request.headers['if-none-match'];
    if (wait > 0 && !isTerminal(task.status)) {
      // Wait for something the client has not seen: newer than the version its tag names, or
      // else newer than what it would get now.
      const held = versionFromIfNoneMatch(ifNoneMatch, id) ?? task.version;
      if (task.version <= held) {
        const changed = await waitForNewer(ctx, id, held, wait, scope, reply.raw);
        task = changed ?? (await ctx.store.get(id, scope));
        if (!task) throw HttpProblem.taskNotFound(id);
      }
    }
    if (view !== 'full') return sendTask(reply, task, 200, ifNoneMatch);
    const shown = task;
    const [place, attempts] = await Promise.all([
      shown.status === 'pending' ? queuePlaces(ctx.pool, [shown], ctx.config.caps).then((places) => places.get(shown.id)) : undefined,
      attemptHistories(ctx.pool, [shown.id], scope).then((byTask) => byTask.get(shown.id) ?? []),
    ]);
    return sendTask(reply, shown, 200, ifNoneMatch, JSON.stringify(fullTaskBody(shown, place, attempts)));
  });

  api.delete<{ Params: TaskParams }>('/v1/tasks/:task_id', contract(cancelTaskOperation), async (request, reply) => {
    const id = request.params.task_id;
    const notFound = () =>
      // The seed's members ride along so a legacy client reading `success` sees false, not a KeyError.
      sendProblem(reply, problem('not-found', `Task ${id} not found`, { code: 'NOT_FOUND', success: false, message: `Task ${id} not found`, task_id: id }));
    if (!isTaskId(id)) return notFound();
    try {
      // Already cancelled answers 200 with the same body again: DELETE is idempotent.
      await ctx.store.cancel(id, request.caller.scope);
    } catch (error) {
      if (error instanceof TaskNotFoundError) return notFound();
      if (error instanceof TaskNotCancellableError) {
        return sendProblem(
          reply,
          problem('task-not-cancellable', error.message, {
            code: error.code,
            success: false,
            message: error.message,
            task_id: id,
            task_status: error.status,
          }),
        );
      }
      throw error;
    }
    return reply.code(200).header('content-type', JSON_CONTENT_TYPE).send(JSON.stringify(cancelledBody(id)));
  });
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTaskId, MAX_OWNER_LENGTH } from '@tasklane/core';
import type { AppContext } from '../app-context.ts';
import { HttpProblem } from './problem.ts';
import { contract } from './route-contract.ts';
import { JSON_CONTENT_TYPE } from './send-task.ts';
import { deliveryBody, secretBody, webhookLogBody } from './webhook-body.ts';
import { redeliverOperation, rotateWebhookSecretOperation, taskWebhooksOperation, webhookSecretOperation } from './webhook-contract.ts';

interface TaskParams {
  task_id: string;
}

/** The owner whose secret is asked for: the caller's, or with `?owner=` another one's (admin keys only). */
function secretOwner(request: FastifyRequest<{ Querystring: { owner?: string } }>): string {
  const asked = request.query.owner;
  if (asked === undefined || asked === request.caller.owner) return request.caller.owner;
  if (typeof asked !== 'string' || asked.length === 0 || asked.length > MAX_OWNER_LENGTH) throw HttpProblem.invalid('owner', `must be an owner name of 1-${MAX_OWNER_LENGTH} characters`);
  if (!request.caller.admin) throw new HttpProblem('forbidden', "owner: only an admin key may read another owner's webhook secret", { code: 'FORBIDDEN' });
  return asked;
}

function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', JSON_CONTENT_TYPE).send(JSON.stringify(body));
}

/** The webhook secret of the caller's owner, and each task's delivery log and redelivery. */
export function registerWebhookRoutes(api: FastifyInstance, ctx: AppContext): void {
  api.get<{ Querystring: { owner?: string } }>('/v1/webhooks/secret', contract(webhookSecretOperation), async (request, reply) => {
    const owner = secretOwner(request);
    // A secret: never kept by a cache on the way.
    reply.header('cache-control', 'no-store');
    return sendJson(reply, 200, secretBody(owner, await ctx.webhooks.secret(owner)));
  });

  api.post<{ Querystring: { owner?: string } }>('/v1/webhooks/secret/rotate', contract(rotateWebhookSecretOperation), async (request, reply) => {
    const owner = secretOwner(request);
    reply.header('cache-control', 'no-store');
    return sendJson(reply, 200, secretBody(owner, await ctx.webhooks.rotateSecret(owner)));
  });

  api.get<{ Params: TaskParams }>('/v1/tasks/:task_id/webhooks', contract(taskWebhooksOperation), async (request, reply) => {
    const id = request.params.task_id;
    const task = isTaskId(id) ? await ctx.store.get(id, request.caller.scope) : undefined;
    if (!task) throw HttpProblem.taskNotFound(id);
    return sendJson(reply, 200, webhookLogBody(task, await ctx.webhooks.deliveries(id)));
  });

  api.post<{ Params: TaskParams }>('/v1/tasks/:task_id/webhooks/redeliver', contract(redeliverOperation), async (request, reply) => {
    const id = request.params.task_id;
    const task = isTaskId(id) ? await ctx.store.get(id, request.caller.scope) : undefined;
    if (!task) throw HttpProblem.taskNotFound(id);
    if (!task.webhook) throw new HttpProblem('nothing-to-redeliver', `Task ${id} has no webhook`, { code: 'BAD_USER_INPUT', task_id: id });
    const delivery = await ctx.webhooks.redeliver(id);
    if (!delivery) {
      throw new HttpProblem('nothing-to-redeliver', `Task ${id} has sent no webhook event yet; there is nothing to send again`, { code: 'BAD_USER_INPUT', task_id: id });
    }
    if (delivery === 'gone') {
      throw new HttpProblem('nothing-to-redeliver', `Task ${id}'s webhook receiver answered 410 Gone; deliveries of this task to it are stopped`, { code: 'BAD_USER_INPUT', task_id: id });
    }
    return sendJson(reply, 202, deliveryBody(delivery));
  });
}

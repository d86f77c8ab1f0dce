import type { FastifyInstance } from 'fastify';
import { isTaskId } from '@tasklane/core';
import type { AppContext } from '../app-context.ts';
import { AUTH_OFF_KEY_ID, mintStreamToken, STREAM_TOKEN_SECONDS } from '../auth/stream-token.ts';
import { HttpProblem } from './problem.ts';
import { streamTokenOperation } from './push-contract.ts';
import { contract } from './route-contract.ts';
import { JSON_CONTENT_TYPE } from './send-task.ts';

/** With `AUTH=off` the events route asks for no token; the one given out then proves nothing. */
const NO_KEY = Buffer.alloc(32);

/**
 * `POST /api/v1/tasks/{task_id}/stream-token`: a token that opens this one task's event stream
 * (`GET …/events?token=…`) for the next minute, for browsers, whose EventSource cannot send
 * `Authorization`. The long-lived key stays out of URLs (and so out of access logs and
 * histories); what a leaked token gives is a minute of reading one task.
 */
export function registerStreamTokenRoute(api: FastifyInstance, ctx: AppContext): void {
  api.post<{ Params: { task_id: string } }>('/v1/tasks/:task_id/stream-token', contract(streamTokenOperation), async (request, reply) => {
    const id = request.params.task_id;
    if (!isTaskId(id)) throw HttpProblem.taskNotFound(id);
    const { scope, keyId } = request.caller;
    if (!(await ctx.store.get(id, scope))) throw HttpProblem.taskNotFound(id);
    const { token, expiresAt } = keyId === undefined ? mintStreamToken(AUTH_OFF_KEY_ID, NO_KEY, id) : await ctx.keys.streamToken(keyId, id);
    const body = {
      token,
      task_id: id,
      expires_at: new Date(expiresAt * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      expires_in: STREAM_TOKEN_SECONDS,
      events_url: `/api/v1/tasks/${id}/events?token=${token}`,
    };
    return reply.code(201).header('content-type', JSON_CONTENT_TYPE).header('cache-control', 'no-store').send(JSON.stringify(body));
  });
}

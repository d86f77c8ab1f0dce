import type { FastifyInstance } from 'fastify';
import { TASK_STATUSES, ValidationError, isTaskId, isTaskStatus, isValidKind, validateMetadata, type TaskStatus } from '@tasklane/core';
import type { BulkFilter, BulkPage, BulkResult } from '@tasklane/db';
import type { AppContext } from '../app-context.ts';
import { chargeRestSubmissions } from '../rate-limit/rest-rate-limit.ts';
import { bulkRequestSchema, cancelTasksOperation, retryTaskOperation, retryTasksOperation } from './operations-contract.ts';
import { parseDateTime } from './date-time.ts';
import { HttpProblem } from './problem.ts';
import { contract } from './route-contract.ts';
import { sendTask } from './send-task.ts';

/** The bulk body's fields (its schema's); anything else is refused so that a misspelt filter does not widen the action. */
const BULK_FIELDS: ReadonlySet<string> = new Set(Object.keys(bulkRequestSchema.properties));
/** A page's size: its bounds and default, as the schema declares them. */
const LIMIT = bulkRequestSchema.properties.limit;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(body: Record<string, unknown>, field: string): string[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  const items = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(items) || items.length === 0 || items.some((v) => typeof v !== 'string')) {
    throw HttpProblem.invalid(field, 'must be a string or a non-empty array of strings');
  }
  return items as string[];
}

function dateField(body: Record<string, unknown>, field: string): Date | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  const date = typeof value === 'string' ? parseDateTime(value) : undefined;
  if (date === undefined) throw HttpProblem.invalid(field, 'must be an RFC 3339 date-time such as 2026-01-11T10:30:00Z');
  return date;
}

/**
 * The JSON filter of `POST /api/v1/tasks/cancel` and `/retry`. An empty filter is allowed (it
 * means every task the caller can see) but still goes a page at a time.
 */
export function parseBulkBody(body: unknown): { filter: BulkFilter; page: BulkPage } {
  if (body === undefined || body === null) body = {};
  if (!isObject(body)) throw HttpProblem.invalid('body', 'must be a JSON object such as {"status": ["failed"], "kind": ["video"]}');
  for (const field of Object.keys(body)) {
    if (!BULK_FIELDS.has(field)) throw HttpProblem.invalid(field, `is not a filter field (allowed: ${[...BULK_FIELDS].join(', ')})`);
  }
  const status = stringList(body, 'status');
  for (const s of status ?? []) {
    if (!isTaskStatus(s)) throw HttpProblem.invalid('status', `"${s}" is not a status (allowed: ${TASK_STATUSES.join(', ')})`);
  }
  const kind = stringList(body, 'kind');
  for (const k of kind ?? []) {
    if (!isValidKind(k)) throw HttpProblem.invalid('kind', `"${k}" is not a kind (1-32 lowercase letters, digits or _, starting with a letter)`);
  }
  let metadata;
  try {
    metadata = validateMetadata(body.metadata, 'metadata') ?? undefined;
  } catch (error) {
    if (error instanceof ValidationError) throw HttpProblem.invalid(error.field, error.rule);
    throw error;
  }
  const limit = body.limit ?? LIMIT.default;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < LIMIT.minimum || limit > LIMIT.maximum) {
    throw HttpProblem.invalid('limit', `must be a whole number from ${LIMIT.minimum} to ${LIMIT.maximum}`);
  }
  const cursor = body.cursor ?? undefined;
  if (cursor !== undefined && (typeof cursor !== 'string' || cursor === '')) throw HttpProblem.invalid('cursor', 'must be the next_cursor of the previous answer');
  return {
    filter: {
      status: status as TaskStatus[] | undefined,
      kind,
      createdAfter: dateField(body, 'created_after'),
      createdBefore: dateField(body, 'created_before'),
      metadata,
    },
    page: { limit, after: cursor as string | undefined },
  };
}

function bulkBody(result: BulkResult): { matched: number; changed: number; next_cursor: string | null } {
  return { matched: result.matched, changed: result.changed, next_cursor: result.nextCursor };
}

/** A store complaint about the cursor names `cursor` already. */
async function bulk(run: () => Promise<BulkResult>): Promise<BulkResult> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ValidationError) throw HttpProblem.invalid(error.field, error.rule);
    throw error;
  }
}

/**
 * Re-running a task, and cancelling or re-running every task that matches a filter. An owner's key
 * acts on its own tasks only; an admin key on everyone's.
 */
export function registerOperationsRoutes(api: FastifyInstance, ctx: AppContext): void {
  api.post<{ Params: { task_id: string } }>('/v1/tasks/:task_id/retry', contract(retryTaskOperation), async (request, reply) => {
    const id = request.params.task_id;
    if (!isTaskId(id)) throw HttpProblem.taskNotFound(id);
    // A re-run is a new task: it counts against the submission rate like any other.
    await chargeRestSubmissions(ctx.limits, reply, request.caller.owner);
    const task = await ctx.operations.retry(id, request.caller.scope);
    reply.header('location', `/api/v1/tasks/${task.id}`);
    return sendTask(reply, task, 202);
  });

  api.post('/v1/tasks/cancel', contract(cancelTasksOperation), async (request, reply) => {
    const { filter, page } = parseBulkBody(request.body);
    const result = await bulk(() => ctx.operations.cancelMatching({ ...filter, ...request.caller.scope }, page));
    return reply.code(200).send(bulkBody(result));
  });

  api.post('/v1/tasks/retry', contract(retryTasksOperation), async (request, reply) => {
    const { filter, page } = parseBulkBody(request.body);
    const result = await bulk(() =>
      ctx.operations.retryMatching({ ...filter, ...request.caller.scope }, page, (count) =>
        chargeRestSubmissions(ctx.limits, reply, request.caller.owner, count),
      ),
    );
    return reply.code(200).send(bulkBody(result));
  });
}

import type { FastifyInstance } from 'fastify';
import { TASK_STATUSES, ValidationError, isTaskStatus, isValidKind, validateMetadata, type TaskStatus } from '@tasklane/core';
import type { ListFilter } from '@tasklane/db';
import type { AppContext } from '../app-context.ts';
import { presentedMessages } from '../no-worker-message.ts';
import { listOperation, listParameters } from './list-contract.ts';
import { parseDateTime } from './date-time.ts';
import { HttpProblem } from './problem.ts';
import { contract } from './route-contract.ts';
import { JSON_CONTENT_TYPE } from './send-task.ts';
import { taskListItem } from '@tasklane/core';

type Query = Record<string, string | string[] | undefined>;

/** The page size's bounds and default, as the `limit` parameter declares them. */
const LIMIT = listParameters.limit.schema;
// Digits only (no sign, exponent or spaces), and no more of them than the maximum has.
const LIMIT_DIGITS = new RegExp(`^\\d{1,${String(LIMIT.maximum).length}}$`);
const ORDERS: readonly string[] = listParameters.order.schema.enum;

function once(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw HttpProblem.invalid(name, 'must be given once');
  return value;
}

/** Comma-separated values, and repeated parameters (`?status=a&status=b`) mean the same. */
function csv(query: Query, name: string): string[] | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  const items = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim());
  if (items.some((item) => item === '')) throw HttpProblem.invalid(name, 'must not contain empty values');
  return items;
}

function dateTime(query: Query, name: string): Date | undefined {
  const raw = once(query, name);
  if (raw === undefined) return undefined;
  // `+` decodes to a space in query strings, so a space stands for it (`2026-01-11T10:30:00 01:00`
  // is what a client that forgot to encode `+` sends).
  const date = parseDateTime(raw.replace(/ (\d\d:\d\d)$/, '+$1'));
  if (date === undefined) {
    throw HttpProblem.invalid(name, 'must be an RFC 3339 date-time such as 2026-01-11T10:30:00Z');
  }
  return date;
}

/**
 * Reads and checks every list parameter; each problem names its parameter and the rule. The
 * bounds, default and allowed values are the parameters' schemas (list-contract.ts).
 */
export function parseListQuery(query: Query): ListFilter {
  const status = csv(query, 'status');
  for (const s of status ?? []) {
    if (!isTaskStatus(s)) throw HttpProblem.invalid('status', `"${s}" is not a status (allowed: ${TASK_STATUSES.join(', ')})`);
  }
  const kind = csv(query, 'kind');
  for (const k of kind ?? []) {
    if (!isValidKind(k)) throw HttpProblem.invalid('kind', `"${k}" is not a kind (1-32 lowercase letters, digits or _, starting with a letter)`);
  }
  const rawLimit = once(query, 'limit');
  let limit: number = LIMIT.default;
  if (rawLimit !== undefined) {
    limit = LIMIT_DIGITS.test(rawLimit) ? Number(rawLimit) : NaN;
    if (!(limit >= LIMIT.minimum && limit <= LIMIT.maximum)) throw HttpProblem.invalid('limit', `must be a whole number from ${LIMIT.minimum} to ${LIMIT.maximum}`);
  }
  const order = once(query, 'order') as ListFilter['order'];
  if (order !== undefined && !ORDERS.includes(order)) throw HttpProblem.invalid('order', `must be ${ORDERS.join(' or ')}`);
  const cursor = once(query, 'cursor');
  const metadata = metadataFilter(query);
  if (cursor !== undefined && cursor === '') throw HttpProblem.invalid('cursor', 'must not be empty');
  return {
    status: status as TaskStatus[] | undefined,
    kind,
    createdAfter: dateTime(query, 'created_after'),
    createdBefore: dateTime(query, 'created_before'),
    metadata,
    order,
    limit,
    after: cursor,
  };
}

/**
 * A metadata pair's parameter: `metadata.customer`, as the docs and the dashboard write it, or
 * `metadata[customer]`, OpenAPI's deepObject style, which clients generated from the document send.
 */
const METADATA_PARAMETER = /^metadata(?:\.(.*)|\[(.*)\])$/s;

/** `?metadata.customer=acme&metadata.batch=7`: every pair must match. */
function metadataFilter(query: Query): Record<string, string> | undefined {
  const pairs: Record<string, string> = {};
  for (const name of Object.keys(query)) {
    const match = METADATA_PARAMETER.exec(name);
    if (!match) continue;
    const key = (match[1] ?? match[2])!;
    if (key in pairs) throw HttpProblem.invalid(`metadata.${key}`, 'must be given once');
    const value = once(query, name);
    if (value !== undefined) pairs[key] = value;
  }
  if (Object.keys(pairs).length === 0) return undefined;
  try {
    return validateMetadata(pairs, 'metadata') ?? undefined;
  } catch (error) {
    if (error instanceof ValidationError) throw HttpProblem.invalid(error.field, error.rule);
    throw error;
  }
}

/** The next page's URL: the same query with the new cursor, so filters and order carry over. */
function nextLink(rawUrl: string, cursor: string): string {
  const queryStart = rawUrl.indexOf('?');
  const params = new URLSearchParams(queryStart >= 0 ? rawUrl.slice(queryStart + 1) : '');
  params.delete('cursor');
  params.set('cursor', cursor);
  return `</api/v1/tasks?${params.toString()}>; rel="next"`;
}

/**
 * `GET /api/v1/tasks`: the seed's plain JSON array of list items, in creation order (oldest first
 * unless `order=desc`), filtered and scoped to the caller. More pages are announced in a `Link`
 * header (RFC 8288), so the body stays exactly what legacy clients parse.
 */
export function registerListRoute(api: FastifyInstance, ctx: AppContext): void {
  api.get<{ Querystring: Query }>('/v1/tasks', contract(listOperation), async (request, reply) => {
    const filter = parseListQuery(request.query);
    let page;
    try {
      page = await ctx.store.list({ ...filter, ...request.caller.scope });
    } catch (error) {
      // The store decodes the cursor; its complaint names `cursor` already.
      if (error instanceof ValidationError) throw HttpProblem.invalid(error.field, error.rule);
      throw error;
    }
    if (page.nextCursor) reply.header('link', nextLink(request.url, page.nextCursor));
    reply.header('content-type', JSON_CONTENT_TYPE);
    return reply.send(JSON.stringify((await presentedMessages(ctx.kinds, page.tasks)).map(taskListItem)));
  });
}

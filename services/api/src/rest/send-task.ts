import type { FastifyReply } from 'fastify';
import type { Task } from '@tasklane/core';
import { noneMatch, retryAfterSeconds, taskEtag } from './polling.ts';
import { taskBodyJson } from '@tasklane/core';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * Answers with a task in the GET shape and its polling headers: `ETag`, `Cache-Control: no-cache`
 * (caches must revalidate, which is cheap with the tag) and `Retry-After` while it is unfinished.
 * When `ifNoneMatch` holds the current tag the answer is a bodiless 304 with the same headers.
 * The body is serialized once, by hand, so the hot path skips Fastify's serializer lookup; `body`
 * replaces the GET shape (the full view). The ETag stays the task's version: a queue place moves
 * without the task changing, so a 304 does not mean the place is the same.
 */
export function sendTask(reply: FastifyReply, task: Task, statusCode: number, ifNoneMatch?: string, body?: string): FastifyReply {
  const etag = taskEtag(task);
  reply.header('etag', etag);
  reply.header('cache-control', 'no-cache');
  const retryAfter = retryAfterSeconds(task);
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  if (ifNoneMatch !== undefined && noneMatch(ifNoneMatch, etag)) return reply.code(304).send();
  reply.header('content-type', JSON_CONTENT_TYPE);
  return reply.code(statusCode).send(body ?? taskBodyJson(task));
}

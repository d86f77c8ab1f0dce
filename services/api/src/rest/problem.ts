import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { TaskNotRetryableError, TasklaneError, ValidationError, type ErrorCode } from '@tasklane/core';
import { DATABASE_RETRY_AFTER_SECONDS, DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from '../database-unavailable.ts';

/**
 * RFC 9457 problem details for every REST error. `type` is always one of the URIs below (never
 * "about:blank"), so clients can branch on it; `detail` says what happened to this request, and
 * a validation problem also names the `field` and its `rule`, with `detail` = "field: rule".
 */
export const PROBLEM_TYPE_BASE = 'https://tasklane.dev/problems/';
// The charset is spelled out so that every path (handler or error handler) sends the same header.
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export const PROBLEM_TYPES = {
  'not-found': { status: 404, title: 'Not Found' },
  'invalid-request': { status: 400, title: 'Invalid request' },
  'malformed-body': { status: 400, title: 'Malformed request body' },
  'task-not-cancellable': { status: 409, title: 'Task cannot be cancelled' },
  'nothing-to-redeliver': { status: 409, title: 'Nothing to redeliver' },
  'task-not-retryable': { status: 409, title: 'Task cannot be retried' },
  'lease-lost': { status: 409, title: 'This worker no longer holds the task' },
  'idempotency-conflict': { status: 422, title: 'Idempotency key reused with a different request' },
  'payload-too-large': { status: 413, title: 'Request body too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  unauthenticated: { status: 401, title: 'Unauthenticated' },
  forbidden: { status: 403, title: 'Forbidden' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  unavailable: { status: 503, title: 'Service unavailable' },
  'internal-error': { status: 500, title: 'Internal server error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemKind = keyof typeof PROBLEM_TYPES;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Extension members (RFC 9457 §3.2): `code`, `field`, `rule`, and the seed's cancel members. */
  [member: string]: unknown;
}

/** Thrown by route handlers; the error handler turns it into its problem body. */
export class HttpProblem extends Error {
  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    readonly members: Record<string, unknown> = {},
  ) {
    super(detail);
  }

  /** A bad request parameter: `field` names it (e.g. `limit`, `status`), `rule` says what is allowed. */
  static invalid(field: string, rule: string): HttpProblem {
    return new HttpProblem('invalid-request', `${field}: ${rule}`, { code: 'BAD_USER_INPUT', field, rule });
  }

  static taskNotFound(taskId: string): HttpProblem {
    return new HttpProblem('not-found', `Task ${taskId} not found`, { code: 'NOT_FOUND', task_id: taskId });
  }
}

export function problem(kind: ProblemKind, detail: string, members: Record<string, unknown> = {}): ProblemBody {
  const { status, title } = PROBLEM_TYPES[kind];
  return { type: PROBLEM_TYPE_BASE + kind, title, status, detail, ...members };
}

export function sendProblem(reply: FastifyReply, body: ProblemBody): FastifyReply {
  return reply.code(body.status).header('content-type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

const KIND_BY_CODE: Partial<Record<ErrorCode, ProblemKind>> = {
  NOT_FOUND: 'not-found',
  BAD_USER_INPUT: 'invalid-request',
  TASK_NOT_CANCELLABLE: 'task-not-cancellable',
  TASK_NOT_RETRYABLE: 'task-not-retryable',
  LEASE_LOST: 'lease-lost',
  IDEMPOTENCY_CONFLICT: 'idempotency-conflict',
  UNAUTHENTICATED: 'unauthenticated',
  FORBIDDEN: 'forbidden',
  RATE_LIMITED: 'rate-limited',
  UNAVAILABLE: 'unavailable',
};

/** Maps anything a handler or Fastify can throw to a problem; never leaks internals on a 500. */
export function problemFromError(error: unknown): ProblemBody {
  if (error instanceof HttpProblem) return problem(error.kind, error.detail, error.members);
  if (error instanceof TasklaneError) {
    const kind = KIND_BY_CODE[error.code] ?? 'internal-error';
    if (kind === 'internal-error') return problem(kind, 'The server could not complete the request');
    const members: Record<string, unknown> = { code: error.code };
    if (error instanceof ValidationError) Object.assign(members, { field: error.field, rule: error.rule });
    if (error instanceof TaskNotRetryableError) {
      Object.assign(members, { task_id: error.taskId, task_status: error.status, ...(error.retriedAs ? { retried_as: error.retriedAs } : {}) });
    }
    return problem(kind, error.message, members);
  }
  const fastifyError = error as Partial<FastifyError> & { validation?: unknown };
  if (fastifyError.validation && fastifyError.validationContext) {
    // Route schemas are a convenience; the message still names the field, as every 400 does.
    return problem('invalid-request', `${fastifyError.validationContext}: ${fastifyError.message ?? 'invalid'}`, { code: 'BAD_USER_INPUT' });
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problem('malformed-body', 'body: is not valid JSON', { code: 'BAD_USER_INPUT', field: 'body', rule: 'must be valid JSON' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem('malformed-body', 'body: must not be empty when Content-Type is application/json', { code: 'BAD_USER_INPUT', field: 'body' });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('payload-too-large', 'body: is larger than the server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem('unsupported-media-type', 'Content-Type: must be application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problem('malformed-body', 'Content-Length: does not match the body');
  }
  // A JSON body that fails to parse surfaces as a SyntaxError with statusCode 400 in some paths.
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return problem('malformed-body', 'body: is not valid JSON', { code: 'BAD_USER_INPUT', field: 'body', rule: 'must be valid JSON' });
  }
  if (isDatabaseUnavailable(error)) {
    return problem('unavailable', DATABASE_UNAVAILABLE_MESSAGE, { code: 'UNAVAILABLE' });
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const kind = (Object.keys(PROBLEM_TYPES) as ProblemKind[]).find((k) => PROBLEM_TYPES[k].status === status) ?? 'invalid-request';
    return { ...problem(kind, fastifyError.message ?? 'Bad request'), status };
  }
  return problem('internal-error', 'The server could not complete the request');
}

/** Fastify error handler for the `/api` scope: every error leaves as problem+json. */
export function restErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body = problemFromError(error);
  if (body.status === 413 && request.routeOptions.bodyLimit !== undefined) {
    body.detail = `body: is larger than the ${request.routeOptions.bodyLimit} bytes the server accepts (MAX_BODY_BYTES)`;
  }
  if (body.status >= 500) request.log.error({ err: error }, 'REST request failed');
  if (body.status === 503) reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
  return sendProblem(reply, body);
}

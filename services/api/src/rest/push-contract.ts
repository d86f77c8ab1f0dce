import { SocketClose } from '@tasklane/core';
import { STREAM_TOKEN_SECONDS } from '../auth/stream-token.ts';
import { jsonContent, parameterRef, problemResponse, timestamp } from './openapi-parts.ts';

/** Following a task: the SSE stream, its stream token, and the WebSocket (not a route under /api). */

/** The full view of the stream; the parser accepts what this enum lists. */
export const eventsViewParameter = {
  name: 'view',
  in: 'query',
  description: '`full`: the full body with the queue place, and queue pushes',
  schema: { type: 'string', enum: ['full'] },
} as const;

export const taskEventsOperation = {
  tags: ['push'],
  operationId: 'taskEvents',
  summary: 'Follow a task (Server-Sent Events)',
  description:
    'One `task` event per state: `id` is the task version, `data` the GET body. The stream ends after a terminal state. ' +
    'A `: keep-alive` comment every 15 s keeps idle connections open. Reconnecting with Last-Event-ID resumes after that ' +
    'version; when the task is finished and nothing is newer, the answer is 204 so EventSource stops reconnecting. ' +
    'With `view=full` each event carries the full body (`queue`, and the place in words as `message`), and while the task is ' +
    'pending the same version comes again whenever its queue place moves (at most once a second), with id `<version>.<n>`.',
  parameters: [
    eventsViewParameter,
    { name: 'Last-Event-ID', in: 'header', description: 'The last event id received: a version, or `<version>.<n>` for a queue push', schema: { type: 'string', pattern: '^\\d+(\\.\\d+)?$' } },
    {
      name: 'token',
      in: 'query',
      description:
        'Instead of `Authorization` (which EventSource cannot send): a stream token for this task from POST …/stream-token. ' +
        'Valid for opening the stream until it expires; a key in `Authorization` takes precedence.',
      schema: { type: 'string', pattern: '^tlst_' },
    },
  ],
  responses: {
    '200': { description: 'The event stream', content: { 'text/event-stream': { schema: { type: 'string' }, example: 'event: task\nid: 3\ndata: {"task_id":"vid_...","status":"processing",...}\n\n' } } },
    '204': { description: 'Nothing left to send: the task is finished and Last-Event-ID is its last version' },
    '401': problemResponse('No key, or a stream token that is expired, for another task, or whose key was revoked'),
    '404': problemResponse('No such task'),
  },
} as const;

export const streamTokenOperation = {
  tags: ['push'],
  operationId: 'createStreamToken',
  summary: 'Get a short-lived token to follow one task over SSE from a browser',
  description:
    'For browsers, whose EventSource cannot send `Authorization`: authenticate this POST with the key, then open ' +
    "`events_url` (the events route with `?token=`). The token opens only this task's stream, only until it expires " +
    `(${STREAM_TOKEN_SECONDS} s), and stops working when its key is revoked. No body.`,
  responses: {
    '201': {
      description: 'The token',
      headers: { 'Cache-Control': { description: '`no-store`', schema: { type: 'string' } } },
      content: jsonContent({
        type: 'object',
        required: ['token', 'task_id', 'expires_at', 'expires_in', 'events_url'],
        additionalProperties: false,
        properties: {
          token: { type: 'string', pattern: '^tlst_' },
          task_id: { type: 'string' },
          expires_at: timestamp,
          expires_in: { type: 'integer', description: 'Seconds the token stays valid', examples: [STREAM_TOKEN_SECONDS] },
          events_url: { type: 'string', examples: ['/api/v1/tasks/vid_01jh…/events?token=tlst_…'] },
        },
      }),
    },
    '401': problemResponse('No usable API key'),
    '404': problemResponse('No such task'),
  },
} as const;

/**
 * `/ws/tasks/{task_id}` is routed outside `/api` (the seed's path), so it is not collected from
 * the REST routes: the document takes this path item as declared.
 */
export const taskSocketPaths = {
  '/ws/tasks/{task_id}': {
    parameters: [parameterRef('TaskId')],
    get: {
      tags: ['push'],
      operationId: 'taskSocket',
      summary: 'Follow a task (WebSocket)',
      description:
        'A WebSocket upgrade (ws://host:8000/ws/tasks/{task_id}). Each text message is the GET body: one on connect, one per ' +
        `change. After a terminal state the server closes with ${SocketClose.Finished}. Close codes: ` +
        `${SocketClose.NotFound} unknown task ("Task <id> not found"), ${SocketClose.Unauthorized} no API key (in time), ` +
        `${SocketClose.Forbidden} a key that is refused, ${SocketClose.RateLimited} too many open subscriptions, ` +
        `${SocketClose.InternalError} the update feed failed (reconnect), ${SocketClose.GoingAway} the server is stopping.`,
      responses: {
        '101': { description: 'Switching to the WebSocket protocol' },
        '404': { description: 'Not a WebSocket upgrade request' },
      },
    },
  },
} as const;

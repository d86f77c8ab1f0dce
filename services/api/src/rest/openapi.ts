import {
  ATTEMPT_OUTCOMES,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_WEBHOOK_EVENTS,
  KIND_PATTERN,
  MAX_ATTEMPTS_LIMIT,
  MAX_PRIORITY,
  MAX_SERVICE_LENGTH,
  MAX_WEBHOOK_URL_LENGTH,
  SocketClose,
  STATUS_MESSAGES,
  TASK_STATUSES,
  WEBHOOK_EVENTS,
} from '@tasklane/core';
import { MAX_LIST_LIMIT } from '@tasklane/db';
import { DEFAULT_LIST_LIMIT } from './list-route.ts';
import { kindParameters, kindPaths, kindSchemas } from './openapi-kinds.ts';
import { operationsPaths, operationsSchemas } from './openapi-operations.ts';
import { MAX_WAIT_SECONDS } from './polling.ts';
import { PROBLEM_TYPE_BASE, PROBLEM_TYPES } from './problem.ts';
import { workerIdParameter, workerKeyScheme, workerPaths, workerSchemas } from './openapi-workers.ts';

/**
 * The OpenAPI 3.1 description of the REST layer, written by hand next to the routes it describes
 * (the shapes are the seed's, not something a schema generator would produce key for key).
 * Served at `/api/v1/openapi.json` and rendered at `/api/docs`.
 */

const timestamp = { type: 'string', format: 'date-time', pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$', examples: ['2026-01-11T10:30:00Z'] };
const status = { type: 'string', enum: [...TASK_STATUSES] };
const problemRef = { $ref: '#/components/schemas/Problem' };
const problemContent = { 'application/problem+json': { schema: problemRef } };

function problemResponse(description: string) {
  return { description, content: problemContent };
}

/** IETF httpapi-ratelimit-headers draft; only when a submission limit is set. */
const rateLimitHeaders = {
  'RateLimit-Policy': { description: 'The quota: "submit";q=<submissions>;w=<seconds>', schema: { type: 'string' } },
  RateLimit: { description: 'What is left: "submit";r=<remaining>;t=<seconds until the window turns>', schema: { type: 'string' } },
};

const taskHeaders = {
  ETag: { $ref: '#/components/headers/ETag' },
  'Cache-Control': { $ref: '#/components/headers/CacheControl' },
  'Retry-After': { $ref: '#/components/headers/RetryAfter' },
};

const taskIdParam = { $ref: '#/components/parameters/TaskId' };

/** The seed's GET keys, in its order: the plain body has exactly these, the full view starts with them. */
const SEED_KEYS = ['task_id', 'status', 'progress', 'created_at', 'updated_at', 'completed_at', 'result', 'error'] as const;

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Tasklane REST API',
    version: '1.0.0',
    summary: 'Long-running tasks (video and image generation): submit, poll, list, cancel, follow.',
    description:
      'The seed contract\'s task endpoints, key for key, plus submission, conditional and long polling, ' +
      'pagination and push (SSE and WebSocket). Errors are RFC 9457 problem details. See docs/rest-api.md.',
    license: { name: 'MIT', identifier: 'MIT' },
  },
  servers: [{ url: '/' }],
  // Keys are required only with AUTH=on; with auth off every request is the default owner.
  security: [{ bearerAuth: [] }, {}],
  tags: [
    { name: 'tasks', description: 'The seed contract and its extensions' },
    { name: 'push', description: 'Server-Sent Events and WebSocket updates' },
    { name: 'webhooks', description: 'Signed callbacks on task changes (docs/webhooks.md)' },
    { name: 'operations', description: 'Re-runs, bulk actions and pausing kinds, for operators' },
    { name: 'workers', description: 'The HTTP worker protocol: run tasks from any language (docs/worker-protocol.md)' },
    { name: 'meta', description: 'This document and its rendering' },
  ],
  paths: {
    '/api/v1/tasks': {
      post: {
        tags: ['tasks'],
        operationId: 'submitTask',
        summary: 'Submit a task',
        description:
          'Queues a task and answers 202 with its GET body and a Location. With an Idempotency-Key (IETF httpapi draft), ' +
          'a retry of the same request answers the original task again (202, Idempotent-Replayed: true); the same key ' +
          'with another body is a 422 problem. Unknown body fields are refused (400) so a misspelt option is not ignored.',
        parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/SubmitRequest' } } } },
        responses: {
          '202': {
            description: 'Accepted: the task in the GET shape',
            headers: {
              ...taskHeaders,
              Location: { description: 'The task\'s URL, /api/v1/tasks/{task_id}', schema: { type: 'string' } },
              'Idempotent-Replayed': { description: 'true when this answers an earlier request with the same key', schema: { type: 'string', enum: ['true'] } },
              ...rateLimitHeaders,
            },
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Task' } } },
          },
          '400': problemResponse('A field is missing or invalid; `field` and `rule` say which and why. Also malformed JSON.'),
          '413': problemResponse('The body is larger than the server accepts'),
          '415': problemResponse('The body is not application/json'),
          '422': problemResponse('The Idempotency-Key was already used with a different request'),
          '429': {
            ...problemResponse("Over the owner's submission quota (code RATE_LIMITED); nothing was stored"),
            headers: { 'Retry-After': { description: 'Seconds until the quota window turns', schema: { type: 'integer', minimum: 1 } }, ...rateLimitHeaders },
          },
        },
      },
      get: {
        tags: ['tasks'],
        operationId: 'listTasks',
        summary: 'List tasks',
        description:
          'The seed\'s plain JSON array. Oldest first (order=desc for newest first), filtered, scoped to the caller. ' +
          'When there are more, a Link header with rel="next" holds the next page\'s URL (same filters, a cursor).',
        parameters: [
          { name: 'status', in: 'query', description: 'Comma-separated statuses', schema: { type: 'string' }, examples: { active: { value: 'pending,processing' } } },
          { name: 'kind', in: 'query', description: 'Comma-separated kinds', schema: { type: 'string' }, examples: { video: { value: 'video' } } },
          { name: 'created_after', in: 'query', description: 'Only tasks created strictly after this RFC 3339 date-time', schema: { type: 'string', format: 'date-time' } },
          { name: 'created_before', in: 'query', description: 'Only tasks created strictly before this RFC 3339 date-time', schema: { type: 'string', format: 'date-time' } },
          { name: 'limit', in: 'query', description: 'Page size', schema: { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT, default: DEFAULT_LIST_LIMIT } },
          { name: 'order', in: 'query', description: 'By creation time', schema: { type: 'string', enum: ['asc', 'desc'], default: 'asc' } },
          { name: 'cursor', in: 'query', description: 'Opaque; taken from the Link header of the previous page', schema: { type: 'string' } },
          {
            name: 'metadata',
            in: 'query',
            description: 'Metadata pairs, written `metadata.<key>=<value>` (repeat for several; every pair must match), e.g. `?metadata.customer=acme`',
            style: 'deepObject',
            schema: { $ref: '#/components/schemas/Metadata' },
          },
        ],
        responses: {
          '200': {
            description: 'A page of tasks',
            headers: { Link: { description: 'RFC 8288: `</api/v1/tasks?...&cursor=...>; rel="next"` when there is a next page', schema: { type: 'string' } } },
            content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/TaskListItem' } } } },
          },
          '400': problemResponse('A query parameter is invalid; `field` names it'),
        },
      },
    },
    ...operationsPaths,
    ...kindPaths,
    '/api/v1/tasks/{task_id}': {
      parameters: [taskIdParam],
      get: {
        tags: ['tasks'],
        operationId: 'getTask',
        summary: 'Get task status',
        description:
          'The seed\'s primary polling endpoint. Send If-None-Match with the last ETag to get a bodiless 304 while nothing ' +
          'changed; add ?wait=N to hold the request up to N seconds until the task changes. Retry-After suggests when to poll again.',
        parameters: [{ $ref: '#/components/parameters/Wait' }, { $ref: '#/components/parameters/View' }, { $ref: '#/components/parameters/IfNoneMatch' }],
        responses: {
          '200': {
            description: 'The task: the seed\'s keys exactly, or with ?view=full the seed\'s keys and then kind, input, attempts, queue, …',
            headers: taskHeaders,
            content: { 'application/json': { schema: { oneOf: [{ $ref: '#/components/schemas/Task' }, { $ref: '#/components/schemas/TaskFull' }] } } },
          },
          '304': { description: 'Not modified: the If-None-Match tag is current', headers: taskHeaders },
          '400': problemResponse('`wait` is not a whole number from 0 to 60, or `view` is not "full"'),
          '404': problemResponse('No such task (or not the caller\'s, or expired)'),
        },
      },
      delete: {
        tags: ['tasks'],
        operationId: 'cancelTask',
        summary: 'Cancel a task',
        description:
          'Cancels a pending or processing task (200). Repeating it on a cancelled task answers 200 again. Completed or ' +
          'failed tasks cannot be cancelled: 409, a problem that also carries the seed\'s success/message/task_id members.',
        responses: {
          '200': { description: 'Cancelled', content: { 'application/json': { schema: { $ref: '#/components/schemas/CancelResult' } } } },
          '404': { description: 'No such task', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/CancelRefused' } } } },
          '409': { description: 'Already completed or failed', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/CancelRefused' } } } },
        },
      },
    },
    '/api/v1/tasks/{task_id}/events': {
      parameters: [taskIdParam],
      get: {
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
          { name: 'view', in: 'query', description: '`full`: the full body with the queue place, and queue pushes', schema: { type: 'string', enum: ['full'] } },
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
      },
    },
    '/api/v1/tasks/{task_id}/stream-token': {
      parameters: [taskIdParam],
      post: {
        tags: ['push'],
        operationId: 'createStreamToken',
        summary: 'Get a short-lived token to follow one task over SSE from a browser',
        description:
          'For browsers, whose EventSource cannot send `Authorization`: authenticate this POST with the key, then open ' +
          '`events_url` (the events route with `?token=`). The token opens only this task\'s stream, only until it expires ' +
          '(60 s), and stops working when its key is revoked. No body.',
        responses: {
          '201': {
            description: 'The token',
            headers: { 'Cache-Control': { description: '`no-store`', schema: { type: 'string' } } },
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['token', 'task_id', 'expires_at', 'expires_in', 'events_url'],
                  additionalProperties: false,
                  properties: {
                    token: { type: 'string', pattern: '^tlst_' },
                    task_id: { type: 'string' },
                    expires_at: timestamp,
                    expires_in: { type: 'integer', description: 'Seconds the token stays valid', examples: [60] },
                    events_url: { type: 'string', examples: ['/api/v1/tasks/vid_01jh…/events?token=tlst_…'] },
                  },
                },
              },
            },
          },
          '401': problemResponse('No usable API key'),
          '404': problemResponse('No such task'),
        },
      },
    },
    '/ws/tasks/{task_id}': {
      parameters: [taskIdParam],
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
    '/api/v1/webhooks/secret': {
      get: {
        tags: ['webhooks'],
        operationId: 'webhookSecret',
        summary: "The owner's webhook signing secret",
        description:
          'The `whsec_` secret that signs every webhook of the caller\'s owner (made on first read). An admin key may pass ' +
          '`owner` to read another owner\'s. Answered with Cache-Control: no-store.',
        parameters: [{ $ref: '#/components/parameters/Owner' }],
        responses: {
          '200': { description: 'The secret', content: { 'application/json': { schema: { $ref: '#/components/schemas/WebhookSecret' } } } },
          '403': problemResponse("Another owner's secret asked for without an admin key"),
        },
      },
    },
    '/api/v1/webhooks/secret/rotate': {
      post: {
        tags: ['webhooks'],
        operationId: 'rotateWebhookSecret',
        summary: 'Rotate the webhook signing secret',
        description: 'Makes a new secret. For 24 hours both the old and the new one sign every delivery (space-separated signatures).',
        parameters: [{ $ref: '#/components/parameters/Owner' }],
        responses: {
          '200': { description: 'The new secret', content: { 'application/json': { schema: { $ref: '#/components/schemas/WebhookSecret' } } } },
          '403': problemResponse("Another owner's secret asked for without an admin key"),
        },
      },
    },
    '/api/v1/tasks/{task_id}/webhooks': {
      parameters: [taskIdParam],
      get: {
        tags: ['webhooks'],
        operationId: 'taskWebhookDeliveries',
        summary: "A task's webhook delivery log",
        description: 'Every delivery of the task, oldest first, with each attempt\'s time, HTTP status or error, and duration.',
        responses: {
          '200': { description: 'The log', content: { 'application/json': { schema: { $ref: '#/components/schemas/WebhookLog' } } } },
          '404': problemResponse('No such task (or another owner\'s)'),
        },
      },
    },
    '/api/v1/tasks/{task_id}/webhooks/redeliver': {
      parameters: [taskIdParam],
      post: {
        tags: ['webhooks'],
        operationId: 'redeliverWebhook',
        summary: "Send the task's latest webhook event again",
        description:
          'A delivery still waiting is made due now; otherwise the latest one is sent again as a new delivery (a new webhook-id).',
        responses: {
          '202': { description: 'The delivery that will be sent', content: { 'application/json': { schema: { $ref: '#/components/schemas/WebhookDelivery' } } } },
          '404': problemResponse('No such task (or another owner\'s)'),
          '409': problemResponse('The task has no webhook, or has sent no event yet'),
        },
      },
    },
    ...workerPaths,
    '/api/v1/openapi.json': {
      get: {
        security: [],
        tags: ['meta'],
        operationId: 'openApiDocument',
        summary: 'This document',
        responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
    '/api/docs': {
      get: {
        security: [],
        tags: ['meta'],
        operationId: 'apiReference',
        summary: 'This document as a self-contained HTML page',
        responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
  },
  components: {
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        description:
          'An API key from `tasklane keys create --owner <name>`, as `Authorization: Bearer <key>` (AUTH=on). ' +
          'A missing or unknown key answers 401 problem+json with `WWW-Authenticate: Bearer`; another owner\'s task answers 404.',
      },
      workerKey: workerKeyScheme,
    },
    schemas: {
      ...workerSchemas,
      Task: {
        type: 'object',
        description: 'The seed\'s GET body. Keys always appear, in this order.',
        required: [...SEED_KEYS],
        additionalProperties: false,
        properties: {
          task_id: { type: 'string', examples: ['vid_01jh8x2c3d4e5f6g7h8j9k0m1n'] },
          status,
          progress: { type: 'integer', minimum: 0, maximum: 100 },
          created_at: timestamp,
          updated_at: timestamp,
          completed_at: { description: 'Set only for completed tasks', oneOf: [timestamp, { type: 'null' }] },
          result: {
            description: 'Set only for completed tasks',
            oneOf: [
              {
                type: 'object',
                required: ['service', 'result', 'duration'],
                additionalProperties: false,
                properties: {
                  service: { type: ['string', 'null'], examples: ['veo3'] },
                  result: { description: 'What the handler returned' },
                  duration: { type: 'number', description: 'Seconds the successful attempt ran' },
                },
              },
              { type: 'null' },
            ],
          },
          error: {
            description: 'Set only for failed tasks (a retry in progress is not a failure)',
            oneOf: [
              { type: 'object', required: ['type', 'message'], additionalProperties: false, properties: { type: { type: 'string' }, message: { type: 'string' } } },
              { type: 'null' },
            ],
          },
        },
      },
      TaskListItem: {
        type: 'object',
        required: ['task_id', 'status', 'progress', 'created_at', 'updated_at', 'message'],
        additionalProperties: false,
        properties: {
          task_id: { type: 'string' },
          status,
          progress: { type: 'integer', minimum: 0, maximum: 100 },
          created_at: timestamp,
          updated_at: timestamp,
          message: { type: 'string', examples: [STATUS_MESSAGES.completed] },
        },
      },
      Webhook: {
        type: 'object',
        required: ['url'],
        additionalProperties: false,
        description: 'Where to POST signed task changes (docs/webhooks.md).',
        properties: {
          url: { type: 'string', format: 'uri', maxLength: MAX_WEBHOOK_URL_LENGTH, examples: ['https://example.com/hooks/tasklane'] },
          events: { type: 'array', minItems: 1, items: { type: 'string', enum: [...WEBHOOK_EVENTS] }, default: [...DEFAULT_WEBHOOK_EVENTS] },
        },
      },
      WebhookSecret: {
        type: 'object',
        required: ['owner', 'secret', 'created_at', 'previous_expires_at'],
        additionalProperties: false,
        properties: {
          owner: { type: 'string' },
          secret: { type: 'string', pattern: '^whsec_', description: 'Standard Webhooks secret: whsec_ and base64' },
          created_at: timestamp,
          previous_expires_at: { description: 'Until when the secret before the last rotation still signs', oneOf: [timestamp, { type: 'null' }] },
        },
      },
      WebhookDelivery: {
        type: 'object',
        required: ['id', 'event', 'url', 'state', 'created_at', 'next_attempt_at', 'attempts'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', description: 'The webhook-id header, the same on every retry', examples: ['msg_2b7c…'] },
          event: { type: 'string', enum: [...WEBHOOK_EVENTS] },
          url: { type: 'string' },
          state: { type: 'string', enum: ['waiting', 'delivered', 'failed', 'gone', 'stopped', 'superseded'] },
          created_at: timestamp,
          next_attempt_at: { oneOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] },
          attempts: {
            type: 'array',
            items: {
              type: 'object',
              required: ['attempt', 'at', 'duration_ms', 'status_code', 'error', 'outcome'],
              additionalProperties: false,
              properties: {
                attempt: { type: 'integer', minimum: 1 },
                at: { type: 'string', format: 'date-time' },
                duration_ms: { type: 'integer', minimum: 0 },
                status_code: { type: ['integer', 'null'] },
                error: { type: ['string', 'null'], examples: ['HTTP 500', 'ECONNREFUSED: connect ECONNREFUSED'] },
                outcome: { type: 'string', enum: ['delivered', 'failed', 'gone'] },
              },
            },
          },
        },
      },
      WebhookLog: {
        type: 'object',
        required: ['task_id', 'webhook', 'deliveries'],
        additionalProperties: false,
        properties: {
          task_id: { type: 'string' },
          webhook: { oneOf: [{ $ref: '#/components/schemas/Webhook' }, { type: 'null' }] },
          deliveries: { type: 'array', items: { $ref: '#/components/schemas/WebhookDelivery' } },
        },
      },
      SubmitRequest: {
        type: 'object',
        required: ['kind'],
        additionalProperties: false,
        properties: {
          kind: { type: 'string', pattern: KIND_PATTERN.source, examples: ['video'] },
          input: { description: 'Any JSON (at most 64 KiB serialized); default {}' },
          service: { type: ['string', 'null'], minLength: 1, maxLength: MAX_SERVICE_LENGTH, examples: ['veo3'] },
          priority: { type: 'integer', minimum: -MAX_PRIORITY, maximum: MAX_PRIORITY, default: 0, description: 'Higher runs first' },
          max_attempts: { type: 'integer', minimum: 1, maximum: MAX_ATTEMPTS_LIMIT, default: DEFAULT_MAX_ATTEMPTS },
          webhook: { $ref: '#/components/schemas/Webhook' },
          metadata: { $ref: '#/components/schemas/Metadata' },
        },
      },
      ...operationsSchemas,
      ...kindSchemas,
      CancelResult: {
        type: 'object',
        required: ['success', 'message', 'task_id'],
        additionalProperties: false,
        properties: {
          success: { type: 'boolean', const: true },
          message: { type: 'string', examples: ['Task vid_abc123 has been cancelled'] },
          task_id: { type: 'string' },
        },
      },
      CancelRefused: {
        description: 'A problem that also carries the seed\'s cancel members, with success false',
        allOf: [
          problemRef,
          {
            type: 'object',
            required: ['success', 'message', 'task_id'],
            properties: {
              success: { type: 'boolean', const: false },
              message: { type: 'string' },
              task_id: { type: 'string' },
              task_status: { ...status, description: 'On 409: the status that prevents cancelling' },
            },
          },
        ],
      },
      TaskFull: {
        type: 'object',
        description: '?view=full: the seed\'s keys, then the fields the seed lacks. A pending task\'s message is its place in words.',
        required: [...SEED_KEYS, 'kind', 'service', 'message', 'input', 'attempts', 'max_attempts', 'priority', 'run_at', 'started_at', 'finished_at', 'version', 'metadata', 'retried_from', 'queue', 'attempt_history'],
        properties: {
          ...Object.fromEntries(SEED_KEYS.map((key) => [key, { $ref: `#/components/schemas/Task/properties/${key}` }])),
          kind: { type: 'string', examples: ['video'] },
          service: { type: ['string', 'null'] },
          message: { type: 'string', examples: ['Waiting: 3 ahead; VIDEO_MAX_CONCURRENT (2) reached'] },
          input: { description: 'What the task was submitted with' },
          attempts: { type: 'integer', minimum: 0 },
          max_attempts: { type: 'integer', minimum: 1 },
          priority: { type: 'integer' },
          run_at: timestamp,
          started_at: { oneOf: [timestamp, { type: 'null' }] },
          finished_at: { oneOf: [timestamp, { type: 'null' }] },
          version: { type: 'integer', minimum: 1 },
          metadata: { $ref: '#/components/schemas/Metadata' },
          retried_from: { type: ['string', 'null'], description: 'The failed or cancelled task this one re-runs' },
          queue: {
            description: 'While pending: its place in its kind\'s queue (claim order: priority, then turns among owners); counts only',
            oneOf: [
              {
                type: 'object',
                required: ['position', 'ahead', 'eta_seconds', 'waiting_for'],
                additionalProperties: false,
                properties: {
                  position: { type: ['integer', 'null'], minimum: 1, description: '1 = next of its kind to start; null while scheduled for later' },
                  ahead: { type: ['integer', 'null'], minimum: 0 },
                  eta_seconds: { type: ['integer', 'null'], minimum: 0, description: 'From recent run times of its kind and the free slots; null while unknown' },
                  waiting_for: {
                    type: ['string', 'null'],
                    description: 'paused (its kind is paused), the full cap (<KIND>_MAX_CONCURRENT, MAX_CONCURRENT_TASKS, OWNER_MAX_CONCURRENT), no_worker, run_at; null when only the tasks ahead hold it',
                    examples: ['VIDEO_MAX_CONCURRENT'],
                  },
                },
              },
              { type: 'null' },
            ],
          },
          attempt_history: {
            type: 'array',
            description: 'Every attempt, oldest first: the ended ones recorded as they ended, then the current or final one',
            items: {
              type: 'object',
              required: ['attempt', 'worker', 'started_at', 'ended_at', 'outcome', 'error'],
              additionalProperties: false,
              properties: {
                attempt: { type: 'integer', minimum: 1, description: 'A release spends no attempt: the next claim repeats its number' },
                worker: { type: ['string', 'null'], description: 'The worker id that claimed it' },
                started_at: timestamp,
                ended_at: { oneOf: [timestamp, { type: 'null' }], description: 'Null while it runs' },
                outcome: { type: 'string', enum: [...ATTEMPT_OUTCOMES] },
                error: {
                  oneOf: [
                    { type: 'object', required: ['type', 'message'], additionalProperties: false, properties: { type: { type: 'string' }, message: { type: 'string' } } },
                    { type: 'null' },
                  ],
                },
              },
            },
          },
        },
      },
      Problem: {
        type: 'object',
        description: 'RFC 9457 problem details',
        required: ['type', 'title', 'status', 'detail'],
        properties: {
          type: { type: 'string', format: 'uri', enum: Object.keys(PROBLEM_TYPES).map((kind) => PROBLEM_TYPE_BASE + kind) },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string', examples: [`limit: must be a whole number from 1 to ${MAX_LIST_LIMIT}`] },
          code: { type: 'string', description: 'Tasklane error code, e.g. NOT_FOUND, BAD_USER_INPUT' },
          field: { type: 'string', description: 'On validation problems: the parameter, header or body field' },
          rule: { type: 'string', description: 'On validation problems: what it must be' },
        },
      },
    },
    parameters: {
      ...kindParameters,
      WorkerId: workerIdParameter,
      TaskId: { name: 'task_id', in: 'path', required: true, schema: { type: 'string' }, examples: { video: { value: 'vid_01jh8x2c3d4e5f6g7h8j9k0m1n' } } },
      Wait: {
        name: 'wait',
        in: 'query',
        description: 'Long poll: hold the request up to this many seconds until the task changes (after the If-None-Match version when given)',
        schema: { type: 'integer', minimum: 0, maximum: MAX_WAIT_SECONDS, default: 0 },
      },
      Owner: { name: 'owner', in: 'query', description: "Another owner's secret (admin keys only); default the caller's", schema: { type: 'string' } },
      View: {
        name: 'view',
        in: 'query',
        description: 'full: add the fields the seed lacks (kind, input, attempts, queue place, …) after the seed\'s keys',
        schema: { type: 'string', enum: ['full'] },
      },
      IfNoneMatch: { name: 'If-None-Match', in: 'header', description: 'The ETag of the state you hold', schema: { type: 'string' } },
      IdempotencyKey: {
        name: 'Idempotency-Key',
        in: 'header',
        description: 'IETF httpapi draft: a Structured Field string ("...") or a bare token, 1-255 printable ASCII characters',
        schema: { type: 'string', maxLength: 257 },
      },
    },
    headers: {
      ETag: { description: 'Strong validator "<task_id>-v<version>"; changes whenever the body does', schema: { type: 'string' } },
      CacheControl: { description: 'no-cache: revalidate with If-None-Match', schema: { type: 'string' } },
      RetryAfter: {
        description: 'Unfinished tasks only: seconds until a useful next poll (pending 5, or until a retry may start; processing 3 / 5 / 2 by progress)',
        schema: { type: 'integer', minimum: 1 },
      },
    },
  },
} as const;

/** Served as-is: serialized once. */
export const openApiJson = JSON.stringify(openApiDocument);

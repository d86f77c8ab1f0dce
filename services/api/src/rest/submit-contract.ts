import { DEFAULT_MAX_ATTEMPTS, KIND_PATTERN, MAX_ATTEMPTS_LIMIT, MAX_PRIORITY, MAX_SERVICE_LENGTH } from '@tasklane/core';
import { jsonContent, parameterRef, problemResponse, rateLimitHeaders, schemaRef, taskHeaders } from './openapi-parts.ts';

/** `POST /api/v1/tasks`: its body schema (which `toNewTask` enforces) and its operation. */

export const submitRequestSchema = {
  type: 'object',
  required: ['kind'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', pattern: KIND_PATTERN.source, examples: ['video'] },
    input: { description: 'Any JSON (at most 64 KiB serialized); default {}' },
    service: { type: ['string', 'null'], minLength: 1, maxLength: MAX_SERVICE_LENGTH, examples: ['veo3'] },
    // null, as left out: clients that send every field with null for unset ones are served.
    priority: { type: ['integer', 'null'], minimum: -MAX_PRIORITY, maximum: MAX_PRIORITY, default: 0, description: 'Higher runs first' },
    max_attempts: { type: ['integer', 'null'], minimum: 1, maximum: MAX_ATTEMPTS_LIMIT, default: DEFAULT_MAX_ATTEMPTS },
    webhook: { anyOf: [schemaRef('Webhook'), { type: 'null' }] },
    metadata: { anyOf: [schemaRef('Metadata'), { type: 'null' }] },
  },
} as const;

export const submitOperation = {
  tags: ['tasks'],
  operationId: 'submitTask',
  summary: 'Submit a task',
  description:
    'Queues a task and answers 202 with its GET body and a Location. With an Idempotency-Key (IETF httpapi draft), ' +
    'a retry of the same request answers the original task again (202, Idempotent-Replayed: true); the same key ' +
    'with another body is a 422 problem. Unknown body fields are refused (400) so a misspelt option is not ignored.',
  parameters: [parameterRef('IdempotencyKey')],
  requestBody: { required: true, content: jsonContent(schemaRef('SubmitRequest')) },
  responses: {
    '202': {
      description: 'Accepted: the task in the GET shape',
      headers: {
        ...taskHeaders,
        Location: { description: 'The task\'s URL, /api/v1/tasks/{task_id}', schema: { type: 'string' } },
        'Idempotent-Replayed': { description: 'true when this answers an earlier request with the same key', schema: { type: 'string', enum: ['true'] } },
        ...rateLimitHeaders,
      },
      content: jsonContent(schemaRef('Task')),
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
} as const;

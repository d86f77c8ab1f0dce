import {
  ATTEMPT_OUTCOMES,
  DEFAULT_WEBHOOK_EVENTS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_METADATA_LENGTH,
  MAX_METADATA_PAIRS,
  MAX_OWNER_LENGTH,
  MAX_WEBHOOK_URL_LENGTH,
  STATUS_MESSAGES,
  WEBHOOK_EVENTS,
} from '@tasklane/core';
import { MAX_LIST_LIMIT } from '@tasklane/db';
import { kindParameter, kindStatusSchema } from './kind-contract.ts';
import { bulkRequestSchema, bulkResultSchema } from './operations-contract.ts';
import { problemRef, taskStatus, timestamp } from './openapi-parts.ts';
import { MAX_WAIT_SECONDS } from './polling.ts';
import { PROBLEM_TYPE_BASE, PROBLEM_TYPES } from './problem.ts';
import { submitRequestSchema } from './submit-contract.ts';
import { workerIdParameter, workerKeyScheme, workerSchemas } from './worker-contract.ts';

/**
 * The document's components: the schemas, parameters and headers several routes share (the task
 * bodies, Problem, ...), declared once and referenced by the route contracts. A route's own body
 * schema is declared beside it and only listed here, under the name the contracts reference.
 */

/** The seed's GET keys, in its order: the plain body has exactly these, the full view starts with them. */
const SEED_KEYS = ['task_id', 'status', 'progress', 'created_at', 'updated_at', 'completed_at', 'result', 'error'] as const;

export const metadataSchema = {
  type: 'object',
  description: `Labels to find and act on tasks by: string keys (1-${MAX_METADATA_LENGTH} characters) to string values (at most ${MAX_METADATA_LENGTH}), at most ${MAX_METADATA_PAIRS} pairs`,
  maxProperties: MAX_METADATA_PAIRS,
  propertyNames: { minLength: 1, maxLength: MAX_METADATA_LENGTH },
  additionalProperties: { type: 'string', maxLength: MAX_METADATA_LENGTH },
  examples: [{ customer: 'acme', batch: '2026-12-01' }],
} as const;

export const openApiComponents = {
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
      description: 'The contract\'s GET body. Keys always appear, in this order.',
      required: [...SEED_KEYS],
      additionalProperties: false,
      properties: {
        task_id: { type: 'string', examples: ['vid_01jh8x2c3d4e5f6g7h8j9k0m1n'] },
        status: taskStatus,
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
        status: taskStatus,
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
        events: { type: ['array', 'null'], minItems: 1, items: { type: 'string', enum: [...WEBHOOK_EVENTS] }, default: [...DEFAULT_WEBHOOK_EVENTS] },
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
    SubmitRequest: submitRequestSchema,
    Metadata: metadataSchema,
    BulkRequest: bulkRequestSchema,
    BulkResult: bulkResultSchema,
    KindStatus: kindStatusSchema,
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
      description: 'A problem that also carries the contract\'s cancel members, with success false',
      allOf: [
        problemRef,
        {
          type: 'object',
          required: ['success', 'message', 'task_id'],
          properties: {
            success: { type: 'boolean', const: false },
            message: { type: 'string' },
            task_id: { type: 'string' },
            task_status: { ...taskStatus, description: 'On 409: the status that prevents cancelling' },
          },
        },
      ],
    },
    TaskFull: {
      type: 'object',
      description: '?view=full: the contract\'s keys, then the fields the contract lacks. A pending task\'s message is its place in words.',
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
    Kind: kindParameter,
    WorkerId: workerIdParameter,
    TaskId: { name: 'task_id', in: 'path', required: true, schema: { type: 'string' }, examples: { video: { value: 'vid_01jh8x2c3d4e5f6g7h8j9k0m1n' } } },
    Wait: {
      name: 'wait',
      in: 'query',
      description: 'Long poll: hold the request up to this many seconds until the task changes (after the If-None-Match version when given)',
      schema: { type: 'integer', minimum: 0, maximum: MAX_WAIT_SECONDS, default: 0 },
    },
    Owner: { name: 'owner', in: 'query', description: "Another owner's secret (admin keys only); default the caller's", schema: { type: 'string', minLength: 1, maxLength: MAX_OWNER_LENGTH } },
    View: {
      name: 'view',
      in: 'query',
      description: 'full: add the fields the contract lacks (kind, input, attempts, queue place, …) after the contract\'s keys',
      schema: { type: 'string', enum: ['full'] },
    },
    IfNoneMatch: { name: 'If-None-Match', in: 'header', description: 'The ETag of the state you hold', schema: { type: 'string' } },
    IdempotencyKey: {
      name: 'Idempotency-Key',
      in: 'header',
      description: `IETF httpapi draft: a Structured Field string ("...") or a bare token, 1-${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`,
      // The key and the two quotes of a Structured Field string.
      schema: { type: 'string', maxLength: MAX_IDEMPOTENCY_KEY_LENGTH + 2 },
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
} as const;

import { KIND_PATTERN, MAX_SERVICE_LENGTH } from '@tasklane/core';
import { MAX_WAIT_SECONDS } from './polling.ts';
import { jsonContent as json, problemRef, problemResponse as problem, schemaRef } from './openapi-parts.ts';

/**
 * The worker protocol's operations and body schemas (docs/worker-protocol.md explains it); the
 * parsers in worker-bodies.ts read their field lists and limits from these schemas.
 */

/** Tasks one claim may take: a batch, but not a whole queue in one answer. */
export const MAX_CLAIM = 100;
/** Kinds one worker may serve in one claim. */
export const MAX_CLAIM_KINDS = 50;
/** Held tasks one heartbeat or release may list. */
export const MAX_HELD = 1000;
export const MAX_ERROR_TYPE_LENGTH = 200;
/** The highest attempt number a write may name; far above any max_attempts. */
export const MAX_ATTEMPT_NUMBER = 1_000_000;
/** A worker names itself (one id per process, say): letters, digits and . _ : @ -, at most 128. */
export const WORKER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

const workerSecurity = [{ workerKey: [] }, {}];

const TASK = 'vid_01jh8x2c3d4e5f6g7h8j9k0m1n';

const leaseLost = {
  description:
    'LEASE_LOST: this worker no longer holds that attempt (cancelled, lease expired and retried elsewhere, or already finished). ' +
    'Nothing was changed; `task_status` says what the task is now. Stop working on it.',
  content: {
    'application/problem+json': {
      schema: problemRef,
      example: {
        type: 'https://tasklane.dev/problems/lease-lost',
        title: 'This worker no longer holds the task',
        status: 409,
        detail: `This worker no longer holds attempt 1 of task ${TASK}: it was cancelled; stop working on it. Nothing was changed.`,
        code: 'LEASE_LOST',
        task_id: TASK,
        task_status: 'cancelled',
      },
    },
  },
};

const commonErrors = {
  '400': problem('A field is missing or invalid; `field` and `rule` say which and why'),
  '401': problem('AUTH=on and no valid key'),
  '403': problem("Not a worker key (an owner's or admin key cannot act as a worker), or a kind the key was not given"),
};

const writeResult = (status: string, example: object) =>
  ({
    description: 'Stored',
    content: json({ type: 'object', required: ['task_id', 'status'], properties: { task_id: { type: 'string' }, status: { type: 'string', enum: [status, ...(status === 'failed' ? ['pending'] : [])] }, will_retry: { type: 'boolean' } } }, example),
  }) as const;

const attemptSchema = { type: 'integer', minimum: 1, maximum: MAX_ATTEMPT_NUMBER } as const;
const progressSchema = { type: 'number', minimum: 0, maximum: 100 } as const;
const heldTaskSchema = { type: 'object', required: ['task_id', 'attempt'], properties: { task_id: { type: 'string' }, attempt: attemptSchema } } as const;

export const claimRequestSchema = {
  type: 'object',
  required: ['kinds'],
  additionalProperties: false,
  properties: {
    kinds: { type: 'array', minItems: 1, maxItems: MAX_CLAIM_KINDS, items: { type: 'string', pattern: KIND_PATTERN.source }, description: 'The kinds this worker has handlers for' },
    max: { type: 'integer', minimum: 1, maximum: MAX_CLAIM, default: 1, description: 'Free slots: claim at most this many' },
    wait: { type: 'integer', minimum: 0, maximum: MAX_WAIT_SECONDS, default: 0, description: 'Seconds to wait for work when none is runnable' },
  },
} as const;

export const heldTasksSchema = {
  type: 'object',
  required: ['tasks'],
  additionalProperties: false,
  properties: { tasks: { type: 'array', maxItems: MAX_HELD, items: heldTaskSchema } },
} as const;

/**
 * The held tasks (which a heartbeat may leave out or send as null: it then renews the worker only)
 * and the wait. One object rather than an allOf of HeldTasks, whose additionalProperties would refuse `wait`.
 */
export const heartbeatRequestSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    tasks: { ...heldTasksSchema.properties.tasks, type: ['array', 'null'], default: [] },
    wait: { type: 'integer', minimum: 0, maximum: MAX_WAIT_SECONDS, default: 0, description: 'Seconds to hold the answer waiting for a cancel' },
  },
} as const;

export const progressRequestSchema = {
  type: 'object',
  required: ['attempt', 'progress'],
  additionalProperties: false,
  properties: { attempt: attemptSchema, progress: progressSchema, message: { type: ['string', 'null'] } },
} as const;

export const completeRequestSchema = {
  type: 'object',
  required: ['attempt'],
  additionalProperties: false,
  properties: { attempt: attemptSchema, result: { description: 'Any JSON; default null' }, service: { type: ['string', 'null'], minLength: 1, maxLength: MAX_SERVICE_LENGTH } },
} as const;

export const failRequestSchema = {
  type: 'object',
  required: ['attempt', 'error'],
  additionalProperties: false,
  properties: {
    attempt: attemptSchema,
    error: {
      type: 'object',
      required: ['type', 'message'],
      additionalProperties: false,
      properties: { type: { type: 'string', minLength: 1, maxLength: MAX_ERROR_TYPE_LENGTH }, message: { type: 'string' }, retryable: { type: 'boolean', default: false } },
    },
    progress: { ...progressSchema, type: ['number', 'null'], description: 'The last progress reached (whole percents are kept), kept on the failed task' },
  },
} as const;

/** A worker protocol operation: the worker key, a required JSON body with its example. */
function workerOperation(operationId: string, summary: string, description: string, body: object, bodyExample: unknown, responses: object) {
  return {
    tags: ['workers'],
    security: workerSecurity,
    operationId,
    summary,
    description,
    requestBody: { required: true, content: json(body, bodyExample) },
    responses,
  } as const;
}

export const claimOperation = workerOperation(
  'workerClaim',
  'Claim tasks',
  'Claims up to `max` runnable tasks of the given kinds in one call, within the cluster-wide caps. With none runnable, ' +
    'holds the request up to `wait` seconds and answers as soon as some are (woken by the event bus). Each task comes with ' +
    'its `attempt`: every later write names it. Renew the lease with heartbeats every `lease_seconds / 3`.',
  schemaRef('ClaimRequest'),
  { kinds: ['video', 'image'], max: 2, wait: 20 },
  {
    '200': {
      description: 'The claimed tasks (maybe none, after the wait)',
      content: json(schemaRef('ClaimResult'), {
        lease_seconds: 30,
        tasks: [{ task_id: TASK, kind: 'video', attempt: 1, max_attempts: 3, service: null, input: { prompt: 'a cat', duration_seconds: 5 }, priority: 0, owner: 'alice', created_at: '2026-01-11T10:30:00Z' }],
      }),
    },
    ...commonErrors,
  },
);

export const heartbeatOperation = workerOperation(
  'workerHeartbeat',
  'Renew leases; hear of cancels',
  "Renews the lease of every task the worker holds, in one call, and answers which of the listed ones were cancelled or lost. " +
    'With `wait`, it then holds the request up to that many seconds and answers at once when a listed task is cancelled or taken ' +
    'back, so cancels reach the worker within moments. A newer heartbeat of the same worker answers an older waiting one.',
  schemaRef('HeartbeatRequest'),
  { tasks: [{ task_id: TASK, attempt: 1 }], wait: 10 },
  {
    '200': {
      description: 'Renewed',
      content: json(
        {
          type: 'object',
          required: ['lease_seconds', 'cancelled', 'lost'],
          properties: {
            lease_seconds: { type: 'integer' },
            cancelled: { type: 'array', items: { type: 'string' }, description: 'Listed tasks that were cancelled: stop them' },
            lost: { type: 'array', items: { type: 'string' }, description: 'Listed tasks this worker no longer holds for another reason: stop them' },
          },
        },
        { lease_seconds: 30, cancelled: [TASK], lost: [] },
      ),
    },
    ...commonErrors,
  },
);

export const releaseOperation = workerOperation(
  'workerRelease',
  'Give tasks back',
  'Returns held tasks to pending without spending their attempt (a stopping worker). Tasks no longer held are skipped.',
  schemaRef('HeldTasks'),
  { tasks: [{ task_id: TASK, attempt: 1 }] },
  {
    '200': { description: 'How many were given back', content: json({ type: 'object', required: ['released'], properties: { released: { type: 'integer' } } }, { released: 1 }) },
    ...commonErrors,
  },
);

export const progressOperation = workerOperation(
  'workerProgress',
  'Report progress',
  'Sets progress (0-100) and, when given, the message subscribers see. Coalesce on the worker side: a few writes a second per task at most.',
  progressRequestSchema,
  { attempt: 1, progress: 40, message: 'rendering frames' },
  { '200': writeResult('processing', { task_id: TASK, status: 'processing' }), ...commonErrors, '409': leaseLost },
);

export const completeOperation = workerOperation(
  'workerComplete',
  'Complete a task',
  "Stores the handler's result (any JSON) and, when given, the service that produced it (the REST body's `result.service`).",
  completeRequestSchema,
  { attempt: 1, result: { video_url: 'https://cdn.example.com/video.mp4' }, service: 'veo3' },
  { '200': writeResult('completed', { task_id: TASK, status: 'completed' }), ...commonErrors, '409': leaseLost },
);

export const failOperation = workerOperation(
  'workerFail',
  'Fail an attempt',
  'Records a typed error. A retryable one with attempts left sends the task back to pending after an exponential backoff with ' +
    'jitter (`status: pending`, `will_retry: true`); otherwise the task fails for good.',
  failRequestSchema,
  { attempt: 1, error: { type: 'ContentPolicy', message: 'rejected', retryable: false }, progress: 35 },
  { '200': writeResult('failed', { task_id: TASK, status: 'failed', will_retry: false }), ...commonErrors, '409': leaseLost },
);

/** The worker protocol's shared schemas, for components.schemas. */
export const workerSchemas = {
  ClaimRequest: claimRequestSchema,
  ClaimedTask: {
    type: 'object',
    required: ['task_id', 'kind', 'attempt', 'max_attempts', 'service', 'input', 'priority', 'owner', 'created_at'],
    properties: {
      task_id: { type: 'string' },
      kind: { type: 'string' },
      attempt: { type: 'integer', description: 'This attempt (1 for the first run): name it in every write about this task' },
      max_attempts: { type: 'integer' },
      service: { type: ['string', 'null'] },
      input: { description: 'What the client submitted' },
      priority: { type: 'integer' },
      owner: { type: 'string' },
      created_at: { type: 'string', format: 'date-time' },
    },
  },
  ClaimResult: {
    type: 'object',
    required: ['lease_seconds', 'tasks'],
    properties: {
      lease_seconds: { type: 'integer', description: 'A worker that sends no heartbeat for this long loses its tasks (LEASE_SECONDS)' },
      tasks: { type: 'array', items: schemaRef('ClaimedTask') },
    },
  },
  HeldTasks: heldTasksSchema,
  HeartbeatRequest: heartbeatRequestSchema,
} as const;

export const workerIdParameter = {
  name: 'worker_id',
  in: 'path',
  required: true,
  description: 'Names this worker process (its lease), chosen by the worker; under a worker key it is scoped to that key',
  schema: { type: 'string', pattern: WORKER_ID_PATTERN.source },
  examples: { host: { value: 'gpu-box-1-4242' } },
} as const;

export const workerKeyScheme = {
  type: 'http',
  scheme: 'bearer',
  description: 'A worker key from `tasklane keys create --worker [--kinds video,image]` (AUTH=on); with AUTH=off the protocol is open.',
} as const;

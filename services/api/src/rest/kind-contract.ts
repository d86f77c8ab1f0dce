import { KIND_PATTERN } from '@tasklane/core';
import { jsonContent, problemResponse, schemaRef } from './openapi-parts.ts';

/** Pausing and resuming a kind: the operations, and the body `kindBody` (kind-routes.ts) writes, key for key. */

export const kindParameter = {
  name: 'kind',
  in: 'path',
  required: true,
  description: 'A kind a worker has registered or TASK_KINDS declares',
  schema: { type: 'string', pattern: KIND_PATTERN.source },
  examples: { video: { value: 'video' } },
} as const;

export const kindStatusSchema = {
  type: 'object',
  required: ['kind', 'paused', 'paused_at', 'live_workers', 'registered', 'declared', 'pending'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string' },
    paused: { type: 'boolean', description: 'No worker claims its pending tasks until it is resumed; running tasks finish' },
    paused_at: { type: ['string', 'null'], format: 'date-time', description: 'When it was paused; null while it is not' },
    live_workers: { type: 'integer', minimum: 0, description: 'Worker processes serving it now' },
    registered: { type: 'boolean', description: 'A worker has registered it, now or before' },
    declared: { type: 'boolean', description: 'TASK_KINDS declares it' },
    pending: { type: 'integer', minimum: 0, description: 'Its pending tasks, every owner\'s' },
  },
  examples: [{ kind: 'video', paused: true, paused_at: '2026-12-01T09:30:00Z', live_workers: 2, registered: true, declared: false, pending: 14 }],
} as const;

function kindOperation(operationId: string, summary: string, description: string) {
  return {
    tags: ['operations'],
    operationId,
    summary,
    description: `${description} Idempotent. Admin keys only (with AUTH=off, every caller).`,
    responses: {
      '200': { description: 'The kind as it is now', content: jsonContent(schemaRef('KindStatus')) },
      '400': problemResponse('Not a kind, or one no worker has registered and TASK_KINDS does not declare; code BAD_USER_INPUT, field kind'),
      '403': problemResponse('Not an admin key; code FORBIDDEN'),
    },
  } as const;
}

export const pauseKindOperation = kindOperation(
  'pauseKind',
  'Pause a kind',
  'Stops every worker in the cluster from claiming pending tasks of this kind until it is resumed; tasks already running finish. Its pending tasks show queue.waiting_for "paused". The pause is stored in the database: it holds across restarts.',
);

export const resumeKindOperation = kindOperation('resumeKind', 'Resume a paused kind', 'Lets workers claim the pending tasks of this kind again.');

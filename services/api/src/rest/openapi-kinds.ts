/**
 * The OpenAPI paths and schema of pausing and resuming a kind, merged into the document by
 * openapi.ts. The body is `kindBody` (kind-routes.ts), key for key.
 */

const problemContent = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };

const kindParam = {
  name: 'kind',
  in: 'path',
  required: true,
  description: 'A kind a worker has registered or TASK_KINDS declares',
  schema: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,31}$' },
  examples: { video: { value: 'video' } },
};

const kindStatus = {
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
};

function kindOperation(operationId: string, summary: string, description: string) {
  return {
    parameters: [{ $ref: '#/components/parameters/Kind' }],
    post: {
      tags: ['operations'],
      operationId,
      summary,
      description: `${description} Idempotent. Admin keys only (with AUTH=off, every caller).`,
      responses: {
        '200': { description: 'The kind as it is now', content: { 'application/json': { schema: { $ref: '#/components/schemas/KindStatus' } } } },
        '400': { description: 'Not a kind, or one no worker has registered and TASK_KINDS does not declare; code BAD_USER_INPUT, field kind', content: problemContent },
        '403': { description: 'Not an admin key; code FORBIDDEN', content: problemContent },
      },
    },
  };
}

export const kindPaths = {
  '/api/v1/kinds/{kind}/pause': kindOperation(
    'pauseKind',
    'Pause a kind',
    'Stops every worker in the cluster from claiming pending tasks of this kind until it is resumed; tasks already running finish. Its pending tasks show queue.waiting_for "paused". The pause is stored in the database: it holds across restarts.',
  ),
  '/api/v1/kinds/{kind}/resume': kindOperation('resumeKind', 'Resume a paused kind', 'Lets workers claim the pending tasks of this kind again.'),
};

export const kindSchemas = { KindStatus: kindStatus };

export const kindParameters = { Kind: kindParam };

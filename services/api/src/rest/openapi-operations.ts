import { MAX_METADATA_LENGTH, MAX_METADATA_PAIRS, TASK_STATUSES } from '@tasklane/core';
import { MAX_BULK_LIMIT } from '@tasklane/db';

/**
 * The OpenAPI paths and schemas of the operator routes (re-run, bulk actions), merged into the
 * document by openapi.ts; the limits come from the code's constants.
 */

const problemContent = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
const taskIdParam = { $ref: '#/components/parameters/TaskId' };

export const metadataSchema = {
  type: 'object',
  description: `Labels to find and act on tasks by: string keys (1-${MAX_METADATA_LENGTH} characters) to string values (at most ${MAX_METADATA_LENGTH}), at most ${MAX_METADATA_PAIRS} pairs`,
  maxProperties: MAX_METADATA_PAIRS,
  propertyNames: { minLength: 1, maxLength: MAX_METADATA_LENGTH },
  additionalProperties: { type: 'string', maxLength: MAX_METADATA_LENGTH },
  examples: [{ customer: 'acme', batch: '2026-12-01' }],
};

const stringOrList = (items: Record<string, unknown>) => ({ oneOf: [items, { type: 'array', minItems: 1, items }] });

const bulkRequest = {
  type: 'object',
  additionalProperties: false,
  description: 'Every field narrows the selection; an empty object selects every task the key can see',
  properties: {
    status: stringOrList({ type: 'string', enum: [...TASK_STATUSES] }),
    kind: stringOrList({ type: 'string', pattern: '^[a-z][a-z0-9_]{0,31}$' }),
    created_after: { type: 'string', format: 'date-time' },
    created_before: { type: 'string', format: 'date-time' },
    metadata: { $ref: '#/components/schemas/Metadata' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_BULK_LIMIT, default: MAX_BULK_LIMIT, description: 'Tasks examined in this call' },
    cursor: { type: 'string', description: 'The next_cursor of the previous answer' },
  },
  examples: [{ status: ['failed'], kind: ['video'], metadata: { customer: 'acme' } }],
};

const bulkResult = {
  type: 'object',
  required: ['matched', 'changed', 'next_cursor'],
  additionalProperties: false,
  properties: {
    matched: { type: 'integer', minimum: 0, description: 'Tasks in this page that match the filter' },
    changed: { type: 'integer', minimum: 0, description: 'Of those, the ones this call cancelled or re-ran' },
    next_cursor: { type: ['string', 'null'], description: 'Pass as cursor to go on; null when this page was the last' },
  },
  examples: [{ matched: 1000, changed: 997, next_cursor: 'WyIyMDI2LTEyLTAxVDA5OjUzOjQ4LjExMVoiLCJ2aWRfMDEuLi4iXQ' }],
};

function bulkOperation(operationId: string, summary: string, description: string) {
  return {
    post: {
      tags: ['operations'],
      operationId,
      summary,
      description: `${description} Goes one page (at most ${MAX_BULK_LIMIT} tasks, in creation order) per call; repeat with next_cursor until it is null. An owner's key acts on its own tasks, an admin key on everyone's.`,
      requestBody: { required: false, content: { 'application/json': { schema: { $ref: '#/components/schemas/BulkRequest' } } } },
      responses: {
        '200': { description: 'What this page matched and changed', content: { 'application/json': { schema: { $ref: '#/components/schemas/BulkResult' } } } },
        '400': { description: 'A filter field is unknown or invalid; `field` names it', content: problemContent },
      },
    },
  };
}

export const operationsPaths = {
  '/api/v1/tasks/{task_id}/retry': {
    parameters: [taskIdParam],
    post: {
      tags: ['operations'],
      operationId: 'retryTask',
      summary: 'Re-run a failed or cancelled task',
      description:
        'Creates a new task with the same kind, service, input, priority, attempts and metadata, linked to this one (retried_from in ?view=full, GraphQL retriedFrom), and answers 202 with its GET body and Location. The original is left as it was. A task is re-run at most once.',
      responses: {
        '202': {
          description: 'The new task, pending',
          headers: { Location: { description: 'The new task\'s URL', schema: { type: 'string' } } },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Task' } } },
        },
        '404': { description: 'No such task', content: problemContent },
        '409': {
          description: 'Pending, processing or completed (task_status says which), or already re-run (retried_as names the new task); code TASK_NOT_RETRYABLE',
          content: problemContent,
        },
      },
    },
  },
  '/api/v1/tasks/cancel': bulkOperation('cancelTasks', 'Cancel every matching task', 'Cancels the pending and processing tasks among those the filter selects.'),
  '/api/v1/tasks/retry': bulkOperation(
    'retryTasks',
    'Re-run every matching failed or cancelled task',
    'Re-runs the failed and cancelled tasks among those the filter selects that have not been re-run yet; the re-runs count against the submission rate limit.',
  ),
};

export const operationsSchemas = { Metadata: metadataSchema, BulkRequest: bulkRequest, BulkResult: bulkResult };

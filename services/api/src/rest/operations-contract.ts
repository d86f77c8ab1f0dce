import { KIND_PATTERN, TASK_STATUSES } from '@tasklane/core';
import { MAX_BULK_LIMIT } from '@tasklane/db';
import { jsonContent, problemResponse, schemaRef } from './openapi-parts.ts';

/**
 * The operator routes (re-run, bulk actions): their operations, and the bulk body schema that
 * `parseBulkBody` enforces; the limits come from the code's constants.
 */

const stringOrList = (items: Record<string, unknown>) => ({ oneOf: [items, { type: 'array', minItems: 1, items }, { type: 'null' }] });

export const bulkRequestSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Every field narrows the selection (null, as left out, does not); an empty object selects every task the key can see',
  properties: {
    status: stringOrList({ type: 'string', enum: [...TASK_STATUSES] }),
    kind: stringOrList({ type: 'string', pattern: KIND_PATTERN.source }),
    created_after: { type: ['string', 'null'], format: 'date-time' },
    created_before: { type: ['string', 'null'], format: 'date-time' },
    metadata: { anyOf: [schemaRef('Metadata'), { type: 'null' }] },
    limit: { type: ['integer', 'null'], minimum: 1, maximum: MAX_BULK_LIMIT, default: MAX_BULK_LIMIT, description: 'Tasks examined in this call' },
    cursor: { type: ['string', 'null'], minLength: 1, description: 'The next_cursor of the previous answer' },
  },
  examples: [{ status: ['failed'], kind: ['video'], metadata: { customer: 'acme' } }],
} as const;

export const bulkResultSchema = {
  type: 'object',
  required: ['matched', 'changed', 'next_cursor'],
  additionalProperties: false,
  properties: {
    matched: { type: 'integer', minimum: 0, description: 'Tasks in this page that match the filter' },
    changed: { type: 'integer', minimum: 0, description: 'Of those, the ones this call cancelled or re-ran' },
    next_cursor: { type: ['string', 'null'], description: 'Pass as cursor to go on; null when this page was the last' },
  },
  examples: [{ matched: 1000, changed: 997, next_cursor: 'WyIyMDI2LTEyLTAxVDA5OjUzOjQ4LjExMVoiLCJ2aWRfMDEuLi4iXQ' }],
} as const;

function bulkOperation(operationId: string, summary: string, description: string) {
  return {
    tags: ['operations'],
    operationId,
    summary,
    description: `${description} Goes one page (at most ${bulkRequestSchema.properties.limit.maximum} tasks, in creation order) per call; repeat with next_cursor until it is null. An owner's key acts on its own tasks, an admin key on everyone's.`,
    requestBody: { required: false, content: jsonContent(schemaRef('BulkRequest')) },
    responses: {
      '200': { description: 'What this page matched and changed', content: jsonContent(schemaRef('BulkResult')) },
      '400': problemResponse('A filter field is unknown or invalid; `field` names it'),
    },
  } as const;
}

export const retryTaskOperation = {
  tags: ['operations'],
  operationId: 'retryTask',
  summary: 'Re-run a failed or cancelled task',
  description:
    'Creates a new task with the same kind, service, input, priority, attempts and metadata, linked to this one (retried_from in ?view=full, GraphQL retriedFrom), and answers 202 with its GET body and Location. The original is left as it was. A task is re-run at most once.',
  responses: {
    '202': {
      description: 'The new task, pending',
      headers: { Location: { description: 'The new task\'s URL', schema: { type: 'string' } } },
      content: jsonContent(schemaRef('Task')),
    },
    '404': problemResponse('No such task'),
    '409': problemResponse(
      'Pending, processing or completed (task_status says which), or already re-run (retried_as names the new task); code TASK_NOT_RETRYABLE',
    ),
  },
} as const;

export const cancelTasksOperation = bulkOperation('cancelTasks', 'Cancel every matching task', 'Cancels the pending and processing tasks among those the filter selects.');

export const retryTasksOperation = bulkOperation(
  'retryTasks',
  'Re-run every matching failed or cancelled task',
  'Re-runs the failed and cancelled tasks among those the filter selects that have not been re-run yet; the re-runs count against the submission rate limit.',
);

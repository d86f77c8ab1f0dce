import { KIND_PATTERN, TASK_STATUSES } from '@tasklane/core';
import { MAX_LIST_LIMIT } from '@tasklane/db';
import { jsonContent, problemResponse, schemaRef } from './openapi-parts.ts';

/** `GET /api/v1/tasks`: its query parameters (which `parseListQuery` enforces) and its operation. */

export const DEFAULT_LIST_LIMIT = 100;

/** A comma-separated list of `item` (a regular expression source), spaces around each allowed. */
const listOf = (item: string) => `^\\s*(?:${item})\\s*(?:,\\s*(?:${item})\\s*)*$`;

/** By name, so the parser reads each one's schema; the operation lists them in this order. */
export const listParameters = {
  status: { name: 'status', in: 'query', description: 'Comma-separated statuses', schema: { type: 'string', pattern: listOf(TASK_STATUSES.join('|')) }, examples: { active: { value: 'pending,processing' } } },
  kind: { name: 'kind', in: 'query', description: 'Comma-separated kinds', schema: { type: 'string', pattern: listOf(KIND_PATTERN.source.slice(1, -1)) }, examples: { video: { value: 'video' } } },
  created_after: { name: 'created_after', in: 'query', description: 'Only tasks created strictly after this RFC 3339 date-time', schema: { type: 'string', format: 'date-time' } },
  created_before: { name: 'created_before', in: 'query', description: 'Only tasks created strictly before this RFC 3339 date-time', schema: { type: 'string', format: 'date-time' } },
  limit: { name: 'limit', in: 'query', description: 'Page size', schema: { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT, default: DEFAULT_LIST_LIMIT } },
  order: { name: 'order', in: 'query', description: 'By creation time', schema: { type: 'string', enum: ['asc', 'desc'], default: 'asc' } },
  cursor: { name: 'cursor', in: 'query', description: 'Opaque; taken from the Link header of the previous page', schema: { type: 'string', minLength: 1 } },
  metadata: {
    name: 'metadata',
    in: 'query',
    description:
      'Metadata pairs, written `metadata.<key>=<value>` or, deepObject style, `metadata[<key>]=<value>` (repeat for several; ' +
      'every pair must match), e.g. `?metadata.customer=acme`',
    style: 'deepObject',
    schema: schemaRef('Metadata'),
  },
} as const;

export const listOperation = {
  tags: ['tasks'],
  operationId: 'listTasks',
  summary: 'List tasks',
  description:
    'The contract\'s plain JSON array. Oldest first (order=desc for newest first), filtered, scoped to the caller. ' +
    'When there are more, a Link header with rel="next" holds the next page\'s URL (same filters, a cursor).',
  parameters: Object.values(listParameters),
  responses: {
    '200': {
      description: 'A page of tasks',
      headers: { Link: { description: 'RFC 8288: `</api/v1/tasks?...&cursor=...>; rel="next"` when there is a next page', schema: { type: 'string' } } },
      content: jsonContent({ type: 'array', items: schemaRef('TaskListItem') }),
    },
    '400': problemResponse('A query parameter is invalid; `field` names it'),
  },
} as const;

import { MAX_WAIT_SECONDS } from './polling.ts';
import { jsonContent, parameterRef, problemResponse, schemaRef, taskHeaders } from './openapi-parts.ts';

/** `GET` and `DELETE /api/v1/tasks/{task_id}`: the seed's two per-task operations. */

export const getTaskOperation = {
  tags: ['tasks'],
  operationId: 'getTask',
  summary: 'Get task status',
  description:
    'The contract\'s primary polling endpoint. Send If-None-Match with the last ETag to get a bodiless 304 while nothing ' +
    'changed; add ?wait=N to hold the request up to N seconds until the task changes. Retry-After suggests when to poll again.',
  parameters: [parameterRef('Wait'), parameterRef('View'), parameterRef('IfNoneMatch')],
  responses: {
    '200': {
      description: 'The task: the contract\'s keys exactly, or with ?view=full the contract\'s keys and then kind, input, attempts, queue, …',
      headers: taskHeaders,
      content: jsonContent({ oneOf: [schemaRef('Task'), schemaRef('TaskFull')] }),
    },
    '304': { description: 'Not modified: the If-None-Match tag is current', headers: taskHeaders },
    '400': problemResponse(`\`wait\` is not a whole number from 0 to ${MAX_WAIT_SECONDS}, or \`view\` is not "full"`),
    '404': problemResponse('No such task (or not the caller\'s, or expired)'),
  },
} as const;

const cancelRefused = (description: string) => ({ description, content: { 'application/problem+json': { schema: schemaRef('CancelRefused') } } });

export const cancelTaskOperation = {
  tags: ['tasks'],
  operationId: 'cancelTask',
  summary: 'Cancel a task',
  description:
    'Cancels a pending or processing task (200). Repeating it on a cancelled task answers 200 again. Completed or ' +
    'failed tasks cannot be cancelled: 409, a problem that also carries the contract\'s success/message/task_id members.',
  responses: {
    '200': { description: 'Cancelled', content: jsonContent(schemaRef('CancelResult')) },
    '404': cancelRefused('No such task'),
    '409': cancelRefused('Already completed or failed'),
  },
} as const;

import { SECRET_OVERLAP_HOURS } from '@tasklane/db';
import { jsonContent, parameterRef, problemResponse, schemaRef } from './openapi-parts.ts';

/** The webhook secret of the caller's owner, and each task's delivery log and redelivery. */

const otherOwnerRefused = problemResponse("Another owner's secret asked for without an admin key");

export const webhookSecretOperation = {
  tags: ['webhooks'],
  operationId: 'webhookSecret',
  summary: "The owner's webhook signing secret",
  description:
    'The `whsec_` secret that signs every webhook of the caller\'s owner (made on first read). An admin key may pass ' +
    '`owner` to read another owner\'s. Answered with Cache-Control: no-store.',
  parameters: [parameterRef('Owner')],
  responses: {
    '200': { description: 'The secret', content: jsonContent(schemaRef('WebhookSecret')) },
    '403': otherOwnerRefused,
  },
} as const;

export const rotateWebhookSecretOperation = {
  tags: ['webhooks'],
  operationId: 'rotateWebhookSecret',
  summary: 'Rotate the webhook signing secret',
  description: `Makes a new secret. For ${SECRET_OVERLAP_HOURS} hours both the old and the new one sign every delivery (space-separated signatures).`,
  parameters: [parameterRef('Owner')],
  responses: {
    '200': { description: 'The new secret', content: jsonContent(schemaRef('WebhookSecret')) },
    '403': otherOwnerRefused,
  },
} as const;

export const taskWebhooksOperation = {
  tags: ['webhooks'],
  operationId: 'taskWebhookDeliveries',
  summary: "A task's webhook delivery log",
  description: 'Every delivery of the task, oldest first, with each attempt\'s time, HTTP status or error, and duration.',
  responses: {
    '200': { description: 'The log', content: jsonContent(schemaRef('WebhookLog')) },
    '404': problemResponse('No such task (or another owner\'s)'),
  },
} as const;

export const redeliverOperation = {
  tags: ['webhooks'],
  operationId: 'redeliverWebhook',
  summary: "Send the task's latest webhook event again",
  description:
    'A delivery still waiting is made due now; otherwise the latest one is sent again as a new delivery (a new webhook-id).',
  responses: {
    '202': { description: 'The delivery that will be sent', content: jsonContent(schemaRef('WebhookDelivery')) },
    '404': problemResponse('No such task (or another owner\'s)'),
    '409': problemResponse('The task has no webhook, or has sent no event yet'),
  },
} as const;

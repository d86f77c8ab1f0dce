import { MAX_OWNER_LENGTH, TasklaneError, ValidationError, WEBHOOK_EVENTS, type WebhookConfig, type WebhookEvent } from '@tasklane/core';
import type { Delivery, DeliveryAttempt, DeliveryState, WebhookSecret } from '@tasklane/db';
import { builder } from './builder.ts';
import type { GraphqlContext } from './context.ts';
import { TaskRef } from './task-type.ts';

const DELIVERY_STATES: readonly DeliveryState[] = ['waiting', 'delivered', 'failed', 'gone', 'stopped', 'superseded'];

export const WebhookEventEnum = builder.enumType('WebhookEvent', {
  description: 'A task change a webhook can be told about. PROGRESS is sent at most once per 2 s per task, the last one always.',
  values: Object.fromEntries(WEBHOOK_EVENTS.map((event) => [event.toUpperCase(), { value: event }])) as Record<Uppercase<WebhookEvent>, { value: WebhookEvent }>,
});

const DeliveryStateEnum = builder.enumType('WebhookDeliveryState', {
  description:
    'WAITING to be sent or retried; DELIVERED (2xx); FAILED after the last retry; GONE (the receiver answered 410); STOPPED (an earlier 410 ' +
    'stopped it); SUPERSEDED (a failed non-final event replaced by a newer one of the same task).',
  values: Object.fromEntries(DELIVERY_STATES.map((state) => [state.toUpperCase(), { value: state }])) as Record<Uppercase<DeliveryState>, { value: DeliveryState }>,
});

export const WebhookInput = builder.inputType('WebhookInput', {
  description: 'Where to POST signed task changes (Standard Webhooks). See docs/webhooks.md.',
  fields: (t) => ({
    url: t.string({ required: true, description: 'https:// URL (http:// and private addresses only where the server allows them).' }),
    events: t.field({ type: [WebhookEventEnum], description: 'Default COMPLETED, FAILED, CANCELLED.' }),
  }),
});

const TaskWebhookRef = builder.objectRef<WebhookConfig>('TaskWebhook').implement({
  description: "A task's webhook.",
  fields: (t) => ({
    url: t.exposeString('url'),
    events: t.field({ type: [WebhookEventEnum], resolve: (w) => w.events }),
  }),
});

const WebhookAttemptRef = builder.objectRef<DeliveryAttempt>('WebhookAttempt').implement({
  description: 'One try at sending a delivery.',
  fields: (t) => ({
    attempt: t.exposeInt('attempt', { description: 'From 1.' }),
    at: t.field({ type: 'DateTime', resolve: (a) => a.at }),
    durationMs: t.exposeInt('durationMs'),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: "The receiver's HTTP status; null when it did not answer." }),
    error: t.exposeString('error', { nullable: true, description: 'Why it was not a success (HTTP 500, a timeout, a refused address, …).' }),
    outcome: t.exposeString('outcome', { description: 'delivered, failed or gone.' }),
  }),
});

export const WebhookDeliveryRef = builder.objectRef<Delivery>('WebhookDelivery').implement({
  description: 'One event sent to a task\'s webhook, with every attempt. `id` is the webhook-id header, the same on every retry.',
  fields: (t) => ({
    id: t.exposeString('id'),
    event: t.field({ type: WebhookEventEnum, resolve: (d) => d.event }),
    url: t.exposeString('url'),
    state: t.field({ type: DeliveryStateEnum, resolve: (d) => d.state }),
    createdAt: t.field({ type: 'DateTime', resolve: (d) => d.createdAt }),
    nextAttemptAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.nextAttemptAt }),
    attempts: t.field({ type: [WebhookAttemptRef], resolve: (d) => d.attempts }),
  }),
});

const WebhookSecretRef = builder.objectRef<WebhookSecret & { owner: string }>('WebhookSecret').implement({
  description: "The owner's Standard Webhooks signing secret. Treat it like a password.",
  fields: (t) => ({
    owner: t.exposeString('owner'),
    secret: t.exposeString('secret', { description: 'whsec_ and base64.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.createdAt }),
    previousExpiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'After a rotation the previous secret signs too, until then.',
      resolve: (s) => s.previousExpiresAt,
    }),
  }),
});

class ForbiddenError extends TasklaneError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

/** The caller's owner, or another one for an admin key. */
function secretOwner(ctx: GraphqlContext, owner: string | null | undefined): string {
  if (owner === undefined || owner === null || owner === ctx.caller.owner) return ctx.caller.owner;
  if (owner.length === 0 || owner.length > MAX_OWNER_LENGTH) throw new ValidationError('owner', `must be an owner name of 1-${MAX_OWNER_LENGTH} characters`);
  if (!ctx.caller.admin) throw new ForbiddenError("owner: only an admin key may read another owner's webhook secret");
  return owner;
}

builder.objectFields(TaskRef, (t) => ({
  webhook: t.field({ type: TaskWebhookRef, nullable: true, description: 'Where changes of this task are posted.', resolve: (task) => task.webhook ?? null }),
  webhookDeliveries: t.field({
    type: [WebhookDeliveryRef],
    description: 'The webhook delivery log, oldest first.',
    resolve: (task, _args, ctx) => ctx.app.webhooks.deliveries(task.id),
  }),
}));

builder.queryFields((t) => ({
  webhookSecret: t.field({
    type: WebhookSecretRef,
    description: "The caller's webhook signing secret (made on first read); `owner` for another owner's, with an admin key.",
    args: { owner: t.arg.string() },
    resolve: async (_root, { owner }, ctx) => {
      const who = secretOwner(ctx, owner);
      return { owner: who, ...(await ctx.app.webhooks.secret(who)) };
    },
  }),
}));

builder.mutationFields((t) => ({
  rotateWebhookSecret: t.field({
    type: WebhookSecretRef,
    description: 'A new signing secret; the previous one keeps signing beside it for 24 hours.',
    args: { owner: t.arg.string() },
    resolve: async (_root, { owner }, ctx) => {
      const who = secretOwner(ctx, owner);
      return { owner: who, ...(await ctx.app.webhooks.rotateSecret(who)) };
    },
  }),
  redeliverWebhook: t.field({
    type: WebhookDeliveryRef,
    description: "Sends the task's latest webhook event again (a waiting delivery is made due now).",
    args: { taskId: t.arg.id({ required: true }) },
    resolve: async (_root, { taskId }, ctx) => {
      const task = await ctx.app.store.getOrThrow(String(taskId), ctx.scope);
      const delivery = task.webhook ? await ctx.app.webhooks.redeliver(task.id) : undefined;
      if (delivery === 'gone') throw new ValidationError('taskId', 'the webhook receiver answered 410 Gone; deliveries of this task to it are stopped');
      if (!delivery) throw new ValidationError('taskId', task.webhook ? 'the task has sent no webhook event yet' : 'the task has no webhook');
      return delivery;
    },
  }),
}));


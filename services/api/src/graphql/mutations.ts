import { DEFAULT_MAX_ATTEMPTS, MAX_ATTEMPTS_LIMIT, MAX_PRIORITY, type NewTask, type Task } from '@tasklane/core';
import { builder } from './builder.ts';
import { TaskRef } from './task-type.ts';
import { WebhookInput } from './webhook-types.ts';
import { tracedSubmit } from '../trace-submit.ts';

const SubmitTaskInput = builder.inputType('SubmitTaskInput', {
  fields: (t) => ({
    kind: t.string({
      required: true,
      description: '1-32 lowercase letters, digits or _, starting with a letter (video, image, …): a kind a worker has registered or TASK_KINDS declares.',
    }),
    service: t.string({ description: 'The provider to use, e.g. veo3.' }),
    input: t.field({
      type: 'JSON',
      description: 'A JSON object for the handler, at most MAX_INPUT_BYTES serialised (64 KiB unless configured) and MAX_INPUT_DEPTH (32) levels deep. Default {}.',
    }),
    priority: t.int({ description: `Higher runs first, -${MAX_PRIORITY} to ${MAX_PRIORITY}. Default 0.` }),
    maxAttempts: t.int({ description: `Attempts before the task fails for good, 1-${MAX_ATTEMPTS_LIMIT}. Default ${DEFAULT_MAX_ATTEMPTS}.` }),
    runAt: t.field({ type: 'DateTime', description: 'Do not start before this time. Default now.' }),
    metadata: t.field({
      type: 'JSON',
      description: 'Labels to find and act on the task by: an object of string values, at most 16 pairs of at most 256 characters.',
    }),
    idempotencyKey: t.string({
      description: 'Submitting again with the same key and the same request returns the original task; with another request, IDEMPOTENCY_CONFLICT.',
    }),
    webhook: t.field({ type: WebhookInput, description: 'POST signed changes of this task to a URL (docs/webhooks.md).' }),
  }),
});

interface CancelPayload {
  task: Task;
  alreadyCancelled: boolean;
}

const CancelTaskPayloadRef = builder.objectRef<CancelPayload>('CancelTaskPayload').implement({
  fields: (t) => ({
    success: t.boolean({ resolve: () => true, description: 'Always true: a task that cannot be cancelled answers TASK_NOT_CANCELLABLE.' }),
    message: t.string({ resolve: (p) => `Task ${p.task.id} has been cancelled` }),
    alreadyCancelled: t.exposeBoolean('alreadyCancelled', { description: 'The task had been cancelled before this call (cancel is idempotent).' }),
    task: t.field({ type: TaskRef, resolve: (p) => p.task }),
  }),
});

builder.mutationType({});

builder.mutationFields((t) => ({
  submitTask: t.field({
    type: TaskRef,
    nullable: true,
    description: 'Queues a task and returns it at once, PENDING. Follow it with `taskUpdated(id)`.',
    args: { input: t.arg({ type: SubmitTaskInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      // Before the write, so a refused submission stores nothing (RATE_LIMITED with retryAfter).
      await ctx.app.limits.chargeSubmissions(ctx.caller.owner, 1);
      const { task } = await tracedSubmit(ctx.headers, input.kind, (traceParent) =>
        ctx.app.store.submit(
        {
          traceParent,
          kind: input.kind,
          service: input.service,
          // An explicit null stays null, and is refused: input is an object or left out.
          input: input.input,
          priority: input.priority ?? undefined,
          maxAttempts: input.maxAttempts ?? undefined,
          runAt: input.runAt ?? undefined,
          idempotencyKey: input.idempotencyKey,
          webhook: input.webhook ? { url: input.webhook.url, events: input.webhook.events ?? undefined } : undefined,
          metadata: input.metadata as NewTask['metadata'],
        },
        { owner: ctx.caller.owner },
        ),
      );
      return task;
    },
  }),

  cancelTask: t.field({
    type: CancelTaskPayloadRef,
    nullable: true,
    description: 'Cancels a PENDING or PROCESSING task; its worker is told to stop. COMPLETED or FAILED answers TASK_NOT_CANCELLABLE.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.app.store.cancel(String(id), ctx.scope),
  }),
}));

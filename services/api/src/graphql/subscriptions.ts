import { builder } from './builder.ts';
import { checkKindFilter } from './kind-filter.ts';
import type { GraphqlContext } from './context.ts';
import { SubscriptionStream } from './subscription-stream.ts';
import { TaskRef, TaskStatusEnum } from './task-type.ts';
import { watchTasks } from './watch-tasks.ts';

const TaskFilterInput = builder.inputType('TaskFilter', {
  description: 'Which task changes to receive; an omitted or empty list matches everything.',
  fields: (t) => ({
    status: t.field({ type: [TaskStatusEnum] }),
    kind: t.stringList(),
  }),
});

/**
 * Opens a stream that holds one of its owner's open-subscription slots (or fails with
 * RATE_LIMITED when they are all taken) and counts itself in the open-subscriptions gauge, both
 * until it ends, however it ends.
 */
async function openStream<T>(ctx: GraphqlContext, field: string, open: (signal: AbortSignal) => AsyncIterator<T>): Promise<SubscriptionStream<T>> {
  const release = await ctx.app.limits.openSubscription(ctx.caller.owner);
  const gauge = ctx.metrics?.openSubscriptions.labels(field);
  gauge?.inc();
  const onClose = () => {
    gauge?.dec();
    release();
  };
  try {
    const stream = new SubscriptionStream(open, { signal: ctx.signal, onClose });
    ctx.streamOpened?.(stream as SubscriptionStream<unknown> as SubscriptionStream<object>);
    return stream;
  } catch (error) {
    onClose();
    throw error;
  }
}

builder.subscriptionType({});

builder.subscriptionFields((t) => ({
  taskUpdated: t.field({
    type: TaskRef,
    description:
      'The task as it is now, then every change in increasing version order, then completes after COMPLETED, FAILED or CANCELLED. While it is PENDING, the same version comes again when its `queue` place moves (at most once a second). Unknown ids answer NOT_FOUND.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_root, { id }, ctx) =>
      (await openStream(ctx, 'taskUpdated', (signal) => ctx.app.feed.follow(String(id), { ...ctx.scope, signal, queuePushes: true }))).ready(),
    resolve: (task) => task,
  }),

  tasksUpdated: t.field({
    type: TaskRef,
    description:
      'Every change to a matching task, for dashboards: list with `tasks` first, then apply these by version. A PENDING task seen here comes again with the same version when its `queue` place moves (at most once a second).',
    args: { filter: t.arg({ type: TaskFilterInput }) },
    subscribe: (_root, { filter }, ctx) => {
      checkKindFilter(filter?.kind, 'filter.kind');
      return openStream(ctx, 'tasksUpdated', (signal) =>
        watchTasks(ctx.app.feed, { owner: ctx.scope.owner, status: filter?.status, kind: filter?.kind }, signal),
      );
    },
    resolve: (task) => task,
  }),
}));

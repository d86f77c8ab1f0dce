import { builder } from './builder.ts';
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

/** Opens a stream that counts itself in the open-subscriptions gauge while it lives. */
function openStream<T>(ctx: GraphqlContext, field: string, open: (signal: AbortSignal) => AsyncIterator<T>): SubscriptionStream<T> {
  const gauge = ctx.metrics?.openSubscriptions.labels(field);
  gauge?.inc();
  return new SubscriptionStream(open, { signal: ctx.signal, onClose: () => gauge?.dec() });
}

builder.subscriptionType({});

builder.subscriptionFields((t) => ({
  taskUpdated: t.field({
    type: TaskRef,
    description:
      'The task as it is now, then every change in increasing version order, then completes after COMPLETED, FAILED or CANCELLED. Unknown ids answer NOT_FOUND.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, { id }, ctx) =>
      openStream(ctx, 'taskUpdated', (signal) => ctx.app.feed.follow(String(id), { ...ctx.scope, signal })).ready(),
    resolve: (task) => task,
  }),

  tasksUpdated: t.field({
    type: TaskRef,
    description: 'Every change to a matching task, for dashboards: list with `tasks` first, then apply these by version.',
    args: { filter: t.arg({ type: TaskFilterInput }) },
    subscribe: (_root, { filter }, ctx) =>
      openStream(ctx, 'tasksUpdated', (signal) =>
        watchTasks(ctx.app.feed, { owner: ctx.scope.owner, status: filter?.status, kind: filter?.kind }, signal),
      ),
    resolve: (task) => task,
  }),
}));

import { ValidationError, validateMetadata } from '@tasklane/core';
import { encodeCursor, MAX_LIST_LIMIT } from '@tasklane/db';
import { builder } from './builder.ts';
import { checkKindFilter } from './kind-filter.ts';
import { QueueStatsRef } from './queue-stats-type.ts';
import { TaskRef, TaskStatusEnum } from './task-type.ts';

const DEFAULT_PAGE_SIZE = 20;

export const SortOrderEnum = builder.enumType('SortOrder', {
  description: 'Creation order: ASC oldest first, DESC newest first.',
  values: { ASC: { value: 'asc' }, DESC: { value: 'desc' } } as const,
});

const TaskConnectionRef = builder.connectionObject({ type: TaskRef, name: 'TaskConnection' }, { name: 'TaskEdge' });

builder.queryType({});

builder.queryFields((t) => ({
  task: t.field({
    type: TaskRef,
    nullable: true,
    description: 'One task by id. An unknown id (or another owner\'s task) answers null with a NOT_FOUND error.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.app.store.getOrThrow(String(id), ctx.scope),
  }),

  tasks: t.field({
    type: TaskConnectionRef,
    nullable: true,
    description: 'Tasks page by page in creation order (forward pagination: first/after).',
    args: {
      first: t.arg.int({ description: `Page size, 1-${MAX_LIST_LIMIT}.`, defaultValue: DEFAULT_PAGE_SIZE }),
      after: t.arg.string({ description: 'The endCursor of the previous page.' }),
      status: t.arg({ type: [TaskStatusEnum], description: 'Only these statuses.' }),
      kind: t.arg.stringList({ description: 'Only these kinds.' }),
      createdAfter: t.arg({ type: 'DateTime' }),
      createdBefore: t.arg({ type: 'DateTime' }),
      metadata: t.arg({ type: 'JSON', description: 'Only tasks whose metadata holds every one of these pairs, e.g. {"customer": "acme"}.' }),
      order: t.arg({ type: SortOrderEnum, defaultValue: 'asc' }),
    },
    resolve: async (_root, args, ctx) => {
      const first = args.first ?? DEFAULT_PAGE_SIZE;
      if (!Number.isInteger(first) || first < 1 || first > MAX_LIST_LIMIT) {
        throw new ValidationError('first', `must be a whole number from 1 to ${MAX_LIST_LIMIT}`);
      }
      checkKindFilter(args.kind, 'kind');
      const page = await ctx.app.store
        .list({
          ...ctx.scope,
          limit: first,
          after: args.after ?? undefined,
          status: args.status ?? undefined,
          kind: args.kind ?? undefined,
          createdAfter: args.createdAfter ?? undefined,
          createdBefore: args.createdBefore ?? undefined,
          metadata: validateMetadata(args.metadata, 'metadata') ?? undefined,
          order: args.order ?? 'asc',
        })
        .catch((error: unknown) => {
          // The store names its own parameter; the client passed it as `after`.
          if (error instanceof ValidationError && error.field === 'cursor') throw new ValidationError('after', error.rule);
          throw error;
        });
      const edges = page.tasks.map((task) => ({ cursor: encodeCursor(task), node: task }));
      return {
        edges,
        pageInfo: {
          // Keyset pages only look forward; knowing whether rows precede `after` would cost a query.
          hasPreviousPage: false,
          hasNextPage: page.nextCursor !== null,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges[edges.length - 1]?.cursor ?? null,
        },
      };
    },
  }),

  queueStats: t.field({
    type: QueueStatsRef,
    nullable: true,
    resolve: async (_root, _args, ctx) => {
      const stats = await ctx.app.store.queueStats(ctx.scope);
      // Caps hold cluster-wide, so what runs against them is counted over every owner.
      const cluster = ctx.scope.owner === undefined ? stats : await ctx.app.store.queueStats({});
      return {
        counts: stats.counts,
        processingByKind: cluster.processingByKind,
        caps: ctx.app.config.caps,
        oldestPendingAgeSeconds: stats.oldestPendingAgeSeconds,
        kinds: await ctx.app.kinds.statuses(),
      };
    },
  }),
}));

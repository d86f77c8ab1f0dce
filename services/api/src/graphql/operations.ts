import { ValidationError, validateMetadata } from '@tasklane/core';
import { MAX_BULK_LIMIT, type BulkFilter, type BulkResult } from '@tasklane/db';
import { builder } from './builder.ts';
import { checkKindFilter } from './kind-filter.ts';
import { TaskRef, TaskStatusEnum } from './task-type.ts';

const BulkTaskFilterInput = builder.inputType('BulkTaskFilter', {
  description: 'Which tasks a bulk action concerns. Every field narrows it; an empty filter means every task the caller can see.',
  fields: (t) => ({
    status: t.field({ type: [TaskStatusEnum], description: 'Only these statuses.' }),
    kind: t.stringList({ description: 'Only these kinds.' }),
    createdAfter: t.field({ type: 'DateTime' }),
    createdBefore: t.field({ type: 'DateTime' }),
    metadata: t.field({ type: 'JSON', description: 'Only tasks whose metadata holds every one of these pairs.' }),
  }),
});

const BulkResultRef = builder.objectRef<BulkResult>('BulkResult').implement({
  description: `One page (at most ${MAX_BULK_LIMIT} tasks) of a bulk action; pass nextCursor as \`after\` for the next.`,
  fields: (t) => ({
    matched: t.exposeInt('matched', { description: 'Tasks in this page that match the filter.' }),
    changed: t.exposeInt('changed', { description: 'Of those, the ones this call cancelled or re-ran.' }),
    nextCursor: t.exposeString('nextCursor', { nullable: true, description: 'Null when this page was the last.' }),
  }),
});

type FilterArg = typeof BulkTaskFilterInput.$inferInput;

function toBulkFilter(filter: FilterArg | null | undefined): BulkFilter {
  checkKindFilter(filter?.kind, 'filter.kind');
  return {
    status: filter?.status ?? undefined,
    kind: filter?.kind ?? undefined,
    createdAfter: filter?.createdAfter ?? undefined,
    createdBefore: filter?.createdBefore ?? undefined,
    metadata: validateMetadata(filter?.metadata, 'filter.metadata') ?? undefined,
  };
}

builder.mutationFields((t) => {
  // The same filter and page for every bulk action.
  const bulkArgs = () => ({
    filter: t.arg({ type: BulkTaskFilterInput }),
    first: t.arg.int({ description: `Page size, 1-${MAX_BULK_LIMIT}.`, defaultValue: MAX_BULK_LIMIT }),
    after: t.arg.string({ description: 'The nextCursor of the previous call.' }),
  });
  return {
  retryTask: t.field({
    type: TaskRef,
    nullable: true,
    description:
      'Re-runs a FAILED or CANCELLED task as a new PENDING task (same kind, service, input, priority and metadata; retriedFrom links them). Anything else, or a task already re-run, answers TASK_NOT_RETRYABLE.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await ctx.app.limits.chargeSubmissions(ctx.caller.owner, 1);
      return ctx.app.operations.retry(String(id), ctx.scope);
    },
  }),

  cancelTasks: t.field({
    type: BulkResultRef,
    nullable: true,
    description: 'Cancels the PENDING and PROCESSING tasks in one page of those matching the filter.',
    args: bulkArgs(),
    resolve: (_root, args, ctx) =>
      renameCursorField(
        ctx.app.operations.cancelMatching({ ...toBulkFilter(args.filter), ...ctx.scope }, bulkPage(args)),
      ),
  }),

  retryTasks: t.field({
    type: BulkResultRef,
    nullable: true,
    description: 'Re-runs the FAILED and CANCELLED tasks (not already re-run) in one page of those matching the filter.',
    args: bulkArgs(),
    resolve: (_root, args, ctx) =>
      renameCursorField(
        ctx.app.operations.retryMatching(
          { ...toBulkFilter(args.filter), ...ctx.scope },
          bulkPage(args),
          async (count) => void (await ctx.app.limits.chargeSubmissions(ctx.caller.owner, count)),
        ),
      ),
  }),
  };
});

function bulkPage(args: { first?: number | null; after?: string | null }): { limit: number; after: string | undefined } {
  return { limit: pageSize(args.first), after: args.after ?? undefined };
}

function pageSize(first: number | null | undefined): number {
  const size = first ?? MAX_BULK_LIMIT;
  if (!Number.isInteger(size) || size < 1 || size > MAX_BULK_LIMIT) {
    throw new ValidationError('first', `must be a whole number from 1 to ${MAX_BULK_LIMIT}`);
  }
  return size;
}

/** The store names its own parameter; the client passed it as `after`. */
function renameCursorField(result: Promise<BulkResult>): Promise<BulkResult> {
  return result.catch((error: unknown) => {
    if (error instanceof ValidationError && error.field === 'cursor') throw new ValidationError('after', error.rule);
    throw error;
  });
}

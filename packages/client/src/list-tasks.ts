import type { Request } from './http-transport.ts';
import { ListTasksDocument, type ListTasksQueryVariables } from './generated/graphql.ts';
import type { ListFilter, Task, TaskPage } from './task-types.ts';

const DEFAULT_PAGE_SIZE = 100;

export function asArray<T>(value: T | readonly T[] | undefined): T[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? [...(value as readonly T[])] : [value as T];
}

export function asDateTime(value: Date | string | undefined): string | undefined {
  return value instanceof Date ? value.toISOString() : value;
}

/** One page of tasks matching `filter`, starting after `after`. */
export async function listTaskPage(request: Request, filter: ListFilter & { after?: string | null }, signal?: AbortSignal): Promise<TaskPage> {
  const variables: ListTasksQueryVariables = {
    first: filter.pageSize ?? DEFAULT_PAGE_SIZE,
    after: filter.after ?? null,
    status: asArray(filter.status) ?? null,
    kind: asArray(filter.kind) ?? null,
    order: filter.order ?? null,
    createdAfter: asDateTime(filter.createdAfter) ?? null,
    createdBefore: asDateTime(filter.createdBefore) ?? null,
    metadata: filter.metadata ?? null,
  };
  const data = await request(ListTasksDocument, variables, signal);
  const connection = data.tasks;
  if (!connection) return { tasks: [], nextCursor: null };
  return {
    tasks: connection.edges.map((edge) => edge.node),
    nextCursor: connection.pageInfo.hasNextPage ? (connection.pageInfo.endCursor ?? null) : null,
  };
}

/** Every task matching `filter`, fetching the next page only when the caller reads that far. */
export async function* listAllTasks(request: Request, filter: ListFilter): AsyncGenerator<Task, void, undefined> {
  const limit = filter.limit ?? Infinity;
  let count = 0;
  let after: string | null = null;
  while (count < limit) {
    // Never ask for more than the caller will read.
    const pageSize = Math.min(filter.pageSize ?? DEFAULT_PAGE_SIZE, limit - count);
    const page: TaskPage = await listTaskPage(request, { ...filter, pageSize, after });
    for (const task of page.tasks) {
      yield task;
      if (++count >= limit) return;
    }
    if (!page.nextCursor) return;
    after = page.nextCursor;
  }
}

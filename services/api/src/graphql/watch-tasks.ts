import type { Task, TaskStatus } from '@tasklane/core';
import type { Scope, TaskFeed } from '@tasklane/db';
import { LatestByTaskQueue } from './latest-by-task-queue.ts';

/** Which changes a dashboard wants; an empty or missing list means any. */
export interface TaskFilter extends Scope {
  status?: readonly TaskStatus[] | null | undefined;
  kind?: readonly string[] | null | undefined;
}

function matches(task: Task, filter: TaskFilter): boolean {
  if (filter.owner !== undefined && task.owner !== filter.owner) return false;
  if (filter.status?.length && !filter.status.includes(task.status)) return false;
  if (filter.kind?.length && !filter.kind.includes(task.kind)) return false;
  return true;
}

/**
 * Every change to any task that matches the filter, as it happens, until the signal aborts. A
 * reader that falls behind gets the newest state of each task it missed, not every step.
 * Unlike `follow`, there is no initial state: a dashboard lists with `tasks` first, then applies
 * these changes (each carries its `version`, so an older one can be recognised and dropped).
 */
export async function* watchTasks(feed: TaskFeed, filter: TaskFilter, signal: AbortSignal): AsyncGenerator<Task, void, undefined> {
  const queue = new LatestByTaskQueue(signal);
  const stop = feed.watchAll((task) => {
    if (matches(task, filter)) queue.push(task);
  });
  try {
    yield* queue;
  } finally {
    stop();
    queue.close();
  }
}

import { TasksUpdatedDocument, type TasksUpdatedSubscription } from './generated/graphql.ts';
import type { Task, TaskStatus } from './task-types.ts';
import type { WsTransport } from './ws-transport.ts';

/** Which changes `watchAll` delivers; an omitted or empty list matches everything. */
export interface WatchAllFilter {
  status?: readonly TaskStatus[] | undefined;
  kind?: readonly string[] | undefined;
}

/**
 * Every change to a matching task over `tasksUpdated`, until the signal aborts or the socket gives
 * up (then it throws). The server sends no initial state and cannot replay changes missed while
 * the socket was down: list first, and list again after `onConnectionChange` reports a reconnect.
 * Each task carries its `version`, so a caller merging list and changes keeps the higher one.
 */
export async function* watchAllTasks(ws: WsTransport, filter: WatchAllFilter = {}, signal?: AbortSignal): AsyncGenerator<Task, void, undefined> {
  const variables = { filter: { status: filter.status ?? null, kind: filter.kind ?? null } };
  const reader = ws.subscribe<TasksUpdatedSubscription>(TasksUpdatedDocument.toString(), variables, signal);
  try {
    for (;;) {
      const step = await reader.next();
      if (step.done) return;
      yield step.value.tasksUpdated;
    }
  } finally {
    reader.close();
  }
}

import { sleep } from './abortable.ts';
import { TasklaneConnectionError } from './errors.ts';
import { TaskUpdatedDocument, type TaskUpdatedSubscription } from './generated/graphql.ts';
import { isNewerState } from './newer-state.ts';
import { isTerminal, type Task } from './task-types.ts';
import type { WsTransport } from './ws-transport.ts';

export interface WatchOptions {
  /** Ends the watch: the iterator throws the signal's reason. */
  signal?: AbortSignal;
}

export interface WatchDeps {
  ws: WsTransport;
  wsUrl: string;
  reconnectAttempts: number;
  reconnectDelayMs: (attempt: number) => number;
}

/**
 * Every state of one task, from the current one to the terminal one, each version once and in
 * order. A reconnect (graphql-ws subscribes again by itself) and a stream that the server ends
 * early (it is shutting down) both start again with the current state, so updates may be
 * coalesced but the terminal state is never missed; states already seen are dropped by version
 * (a pending task's moved queue place comes as its version again, and is kept).
 */
export async function* watchTask(deps: WatchDeps, id: string, { signal }: WatchOptions = {}): AsyncGenerator<Task, void, undefined> {
  let last: Task | undefined;
  let fruitless = 0;
  for (;;) {
    const reader = deps.ws.subscribe<TaskUpdatedSubscription>(TaskUpdatedDocument.toString(), { id }, signal);
    let delivered = false;
    try {
      for (;;) {
        const step = await reader.next();
        if (step.done) break;
        const task = step.value.taskUpdated;
        // The same version again with a moved queue place is a queue push: news, not a repeat.
        if (!isNewerState(last, task)) continue;
        last = task;
        delivered = true;
        yield task;
        if (isTerminal(task)) return;
      }
    } finally {
      reader.close();
    }
    fruitless = delivered ? 0 : fruitless + 1;
    if (fruitless > deps.reconnectAttempts) {
      throw new TasklaneConnectionError(`The subscription to ${id} on ${deps.wsUrl} keeps ending before the task does`, deps.wsUrl);
    }
    await sleep(deps.reconnectDelayMs(fruitless), signal);
  }
}

import { pausedKindMessage, STATUS_MESSAGES, type Task } from '@tasklane/core';
import type { KindRegistry } from '@tasklane/db';

/** The stored message of a pending task, plus why it cannot start yet when no worker serves its kind. */
export function noWorkerMessage(message: string | null, kind: string): string {
  return `${message ?? STATUS_MESSAGES.pending}; no live worker serves kind "${kind}", so it waits until one starts`;
}

/** What holds the pending tasks of a kind, beyond the tasks ahead of them. */
type Hold = 'paused' | 'no_worker' | null;

async function holdOf(kinds: KindRegistry, kind: string): Promise<Hold> {
  if (await kinds.isPaused(kind)) return 'paused';
  return (await kinds.lacksLiveWorker(kind)) ? 'no_worker' : null;
}

function messageFor(task: Task, hold: Hold): string | null {
  if (hold === 'paused') return pausedKindMessage(task.kind);
  if (hold === 'no_worker') return noWorkerMessage(task.message, task.kind);
  return task.message;
}

/**
 * A task's message as clients see it. The stored message says what last happened; a pending task
 * of a paused kind says that it is paused, and one of a kind with no live worker that it waits for
 * one (a kind declared in TASK_KINDS before its workers run, or whose workers are all down),
 * instead of looking merely queued.
 */
export async function presentedMessage(kinds: KindRegistry, task: Task): Promise<string | null> {
  if (task.status !== 'pending') return task.message;
  return messageFor(task, await holdOf(kinds, task.kind));
}

/** The same for many tasks, asking once per kind. */
export async function presentedMessages(kinds: KindRegistry, tasks: readonly Task[]): Promise<Task[]> {
  const holds = new Map<string, Hold>();
  for (const task of tasks) {
    if (task.status === 'pending' && !holds.has(task.kind)) holds.set(task.kind, await holdOf(kinds, task.kind));
  }
  return tasks.map((task) => {
    const hold = task.status === 'pending' ? (holds.get(task.kind) ?? null) : null;
    return hold === null ? task : { ...task, message: messageFor(task, hold) };
  });
}

import type { Task } from '@tasklane/core';
import type { KindRegistry } from '@tasklane/db';

/** The stored message of a pending task, plus why it cannot start yet when no worker serves its kind. */
export function noWorkerMessage(message: string | null, kind: string): string {
  return `${message ?? 'Task queued'}; no live worker serves kind "${kind}", so it waits until one starts`;
}

/**
 * A task's message as clients see it. The stored message says what last happened; a pending task
 * of a kind with no live worker also says that it waits for one (a kind declared in TASK_KINDS
 * before its workers run, or whose workers are all down), instead of looking merely queued.
 */
export async function presentedMessage(kinds: KindRegistry, task: Task): Promise<string | null> {
  if (task.status !== 'pending' || !(await kinds.lacksLiveWorker(task.kind))) return task.message;
  return noWorkerMessage(task.message, task.kind);
}

/** The same for many tasks, asking once per kind. */
export async function presentedMessages(kinds: KindRegistry, tasks: readonly Task[]): Promise<Task[]> {
  const waiting = new Map<string, boolean>();
  for (const task of tasks) {
    if (task.status === 'pending' && !waiting.has(task.kind)) waiting.set(task.kind, await kinds.lacksLiveWorker(task.kind));
  }
  return tasks.map((task) => (task.status === 'pending' && waiting.get(task.kind) ? { ...task, message: noWorkerMessage(task.message, task.kind) } : task));
}

import type { Task } from '@tasklane/client';

/** Statuses as the seed and the REST layer spell them: lower case. */
export function statusLabel(task: Pick<Task, 'status'>): string {
  return task.status.toLowerCase();
}

/** Seconds between two timestamps, e.g. "12.3s"; undefined when either is missing. */
export function elapsed(from: string | null, to: string | null): string | undefined {
  if (!from || !to) return undefined;
  const seconds = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(seconds) ? `${seconds.toFixed(1)}s` : undefined;
}

/** One line for a finished task: what a person wants to see when `watch` returns. */
export function finishedLine(task: Task): string {
  const took = elapsed(task.createdAt, task.finishedAt);
  const base = `${task.id} ${statusLabel(task)}${took ? ` in ${took}` : ''}`;
  if (task.status === 'COMPLETED') return `${base}\nresult: ${JSON.stringify(task.result)}`;
  return base;
}

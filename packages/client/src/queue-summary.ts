import type { Task } from './task-types.ts';

/**
 * A pending task's place in a few words, as `tasklane watch` and the dashboard show it:
 * "queued: 3 ahead, ~40 s", with what holds it when something other than the tasks ahead does
 * ("queued: 0 ahead, no worker"; "paused: 3 ahead" while its kind is paused). Undefined when the task is not queued.
 */
export function queueSummary(task: Pick<Task, 'queue'>): string | undefined {
  const queue = task.queue;
  if (!queue) return undefined;
  if (queue.waitingFor === 'paused') return `paused: ${queue.ahead ?? '?'} ahead`;
  if (queue.waitingFor === 'run_at') return queue.etaSeconds === null ? 'scheduled' : `scheduled: starts in ~${queue.etaSeconds} s`;
  const parts = [`queued: ${queue.ahead ?? '?'} ahead`];
  if (queue.etaSeconds !== null) parts.push(`~${queue.etaSeconds} s`);
  if (queue.waitingFor === 'no_worker') parts.push('no worker');
  else if (queue.waitingFor) parts.push(`${queue.waitingFor} reached`);
  return parts.join(', ');
}

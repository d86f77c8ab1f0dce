import type { Task } from './task-types.ts';

function sameQueue(a: Task['queue'], b: Task['queue']): boolean {
  if (!a || !b) return !a === !b;
  return a.position === b.position && a.ahead === b.ahead && a.etaSeconds === b.etaSeconds && a.waitingFor === b.waitingFor;
}

/**
 * Whether `next` says something that `held` does not: a higher version, or the same version with
 * another queue place. The server pushes a pending task's moved place as the same version again
 * (its row did not change), so dropping every version already seen would drop those pushes.
 */
export function isNewerState(held: Pick<Task, 'version' | 'queue'> | undefined, next: Pick<Task, 'version' | 'queue'>): boolean {
  if (!held || next.version > held.version) return true;
  return next.version === held.version && next.queue !== undefined && !sameQueue(held.queue, next.queue);
}

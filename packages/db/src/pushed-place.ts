import type { QueuePlace, Task } from '@tasklane/core';

/** What a queue push adds to a task state: its place, and the push's number in this process. */
export interface PushedPlace {
  place: QueuePlace;
  /** Increases with every push this process makes, so a follower can tell a newer push of the same version. */
  seq: number;
}

// Kept beside the task object rather than in it, so a pushed state is still exactly a `Task`: the
// REST bodies, built key by key from a task, cannot pick up anything extra.
const pushed = new WeakMap<Task, PushedPlace>();
let lastSeq = 0;

/**
 * A copy of `task` (the same row version) that carries `place` as pushed by the queue pusher.
 * A fresh object per push: the shared GraphQL delivery caches one payload per event object.
 */
export function withPushedPlace(task: Task, place: QueuePlace): Task {
  const copy = { ...task };
  pushed.set(copy, { place, seq: ++lastSeq });
  return copy;
}

/** The place a queue push carries, or undefined for a state read because its row changed. */
export function pushedPlace(task: Task): PushedPlace | undefined {
  return pushed.get(task);
}

/** Whether two places say the same (the `cap` value follows from `waitingFor`). */
export function samePlace(a: QueuePlace, b: QueuePlace): boolean {
  return a.position === b.position && a.ahead === b.ahead && a.etaSeconds === b.etaSeconds && a.waitingFor === b.waitingFor;
}

import type { QueuePlace, Task } from '@tasklane/core';

/** What a queue push adds to a task state: its place, and the push's number in this process. */
export interface PushedPlace {
  place: QueuePlace;
  /** Increases with every push this process makes, so a follower can tell a newer push of the same version. */
  seq: number;
}

// Kept on the task object under a symbol that is not enumerable, so a pushed state is still
// exactly a `Task` to everything that lists keys (the REST bodies, built key by key from a task,
// JSON, a spread copy), and goes with the object. Not in a process-wide WeakMap: every follower's
// own read of a pending task is a copy with a place, and a WeakMap's table keeps its capacity
// after its keys are collected, so a burst of followers would leave it at their number for good.
const PUSHED = Symbol('tasklane.pushedPlace');
let lastSeq = 0;

/**
 * A copy of `task` (the same row version) that carries `place` as pushed by the queue pusher.
 * A fresh object per push: the shared GraphQL delivery caches one payload per event object.
 */
export function withPushedPlace(task: Task, place: QueuePlace): Task {
  const copy = { ...task };
  Object.defineProperty(copy, PUSHED, { value: { place, seq: ++lastSeq } satisfies PushedPlace });
  return copy;
}

/** The place a queue push carries, or undefined for a state read because its row changed. */
export function pushedPlace(task: Task): PushedPlace | undefined {
  return (task as Task & { [PUSHED]?: PushedPlace })[PUSHED];
}

/** Seconds, and a share of the ETA, that an ETA may drift before it is worth a push. */
const ETA_TOLERANCE_SECONDS = 2;
const ETA_TOLERANCE_SHARE = 0.1;

/**
 * Whether two ETAs say the same to someone waiting: "~40 s" and "~39 s" do, and pushing every
 * second of a countdown would cost a read and a message per task per second. A drift past
 * 2 s and 10 % of the ETA does not; neither does a change between known and unknown.
 */
export function sameEta(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= Math.max(ETA_TOLERANCE_SECONDS, ETA_TOLERANCE_SHARE * Math.max(a, b));
}

/** Whether two places say the same (the `cap` value follows from `waitingFor`). */
export function samePlace(a: QueuePlace, b: QueuePlace): boolean {
  return a.position === b.position && a.ahead === b.ahead && sameEta(a.etaSeconds, b.etaSeconds) && a.waitingFor === b.waitingFor;
}

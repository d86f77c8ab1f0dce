import { kindCapSetting, OWNER_CAP_SETTING, TOTAL_CAP_SETTING } from './config.ts';

/**
 * What a pending task waits for: `paused` while an operator has paused its kind, the cap that binds
 * (`VIDEO_MAX_CONCURRENT`, `MAX_CONCURRENT_TASKS`, `OWNER_MAX_CONCURRENT`), `no_worker` when no
 * worker is alive to claim it, `run_at` when it is not due yet. Null: nothing binds, it starts as
 * soon as the tasks ahead of it have.
 */
export type WaitingFor = string;

export const NO_WORKER = 'no_worker';
export const RUN_AT = 'run_at';
export const PAUSED = 'paused';

/** What a pending task of a paused kind says, in its queue message and its message field. */
export function pausedKindMessage(kind: string): string {
  return `Waiting: kind ${kind} is paused`;
}

/** A pending task's place in its kind's queue. */
export interface QueuePlace {
  /** 1 = the next of its kind to start, in the claim order (priority, then turns among owners). */
  position: number | null;
  /** Tasks of its kind that start before it. */
  ahead: number | null;
  /** Seconds until it should start, from recent run times of its kind and the free slots; null while unknown. */
  etaSeconds: number | null;
  waitingFor: WaitingFor | null;
  /** The value of the cap in `waitingFor`, when it names one. */
  cap: number | null;
}

/** What the queue looks like to one pending task, as the store reads it. */
export interface QueueFacts {
  kind: string;
  /** Ready tasks of its kind ahead of it; null when it is not due yet. */
  ahead: number | null;
  secondsUntilDue: number;
  liveWorker: boolean;
  /** Its kind is paused: nothing claims it until the kind is resumed. */
  paused: boolean;
  totalRunning: number;
  totalCap: number;
  kindRunning: number;
  kindCap: number | undefined;
  ownerRunning: number;
  ownerCap: number | undefined;
  /** Mean run time of its kind's recent completions; undefined when none is known. */
  meanRunSeconds: number | undefined;
  /** How long each running task of its kind has run, in seconds. */
  runningFor: number[];
}

/**
 * Where a task stands and when it should start. The ETA assumes each running task takes the
 * mean run time of its kind: slot i frees when its task's mean is up, then every mean after,
 * and the task starts on the (ahead + 1)-th free slot beyond those free now.
 */
export function queuePlace(f: QueueFacts): QueuePlace {
  // Paused first: however the queue looks, nothing starts before someone resumes the kind.
  if (f.paused) {
    return { position: f.ahead === null ? null : f.ahead + 1, ahead: f.ahead, etaSeconds: null, waitingFor: PAUSED, cap: null };
  }
  if (f.ahead === null) {
    return { position: null, ahead: null, etaSeconds: Math.max(0, Math.round(f.secondsUntilDue)), waitingFor: RUN_AT, cap: null };
  }
  const place = { position: f.ahead + 1, ahead: f.ahead };
  const slots = Math.min(f.kindCap ?? f.totalCap, f.totalCap);
  let waitingFor: WaitingFor | null = null;
  let cap: number | null = null;
  if (!f.liveWorker) waitingFor = NO_WORKER;
  else if (f.ownerCap !== undefined && f.ownerRunning >= f.ownerCap) [waitingFor, cap] = [OWNER_CAP_SETTING, f.ownerCap];
  else if (f.kindCap !== undefined && f.kindRunning >= f.kindCap) [waitingFor, cap] = [kindCapSetting(f.kind), f.kindCap];
  else if (f.totalRunning >= f.totalCap) [waitingFor, cap] = [TOTAL_CAP_SETTING, f.totalCap];
  if (waitingFor === NO_WORKER || f.meanRunSeconds === undefined) return { ...place, etaSeconds: null, waitingFor, cap };
  const mean = f.meanRunSeconds;
  const free = Math.max(0, Math.min(slots - f.kindRunning, f.totalCap - f.totalRunning));
  const needed = f.ahead + 1 - free;
  if (needed <= 0) return { ...place, etaSeconds: 0, waitingFor, cap };
  const firstFree = f.runningFor.map((ran) => Math.max(0, mean - ran)).sort((a, b) => a - b);
  while (firstFree.length < Math.min(slots, needed)) firstFree.push(mean);
  const width = Math.min(slots, firstFree.length);
  const slot = (needed - 1) % width;
  const round = Math.floor((needed - 1) / width);
  return { ...place, etaSeconds: Math.round(firstFree[slot]! + round * mean), waitingFor, cap };
}

/** A pending task's message in words: "Waiting: 3 ahead; VIDEO_MAX_CONCURRENT (2) reached". */
export function queueMessage(place: QueuePlace, kind: string): string {
  if (place.waitingFor === PAUSED) return pausedKindMessage(kind);
  if (place.waitingFor === RUN_AT) return 'Waiting: scheduled to start later';
  const parts = [place.ahead === 0 ? 'Waiting: next to start' : `Waiting: ${place.ahead} ahead`];
  if (place.waitingFor === NO_WORKER) parts.push('no worker is running');
  else if (place.waitingFor !== null) parts.push(`${place.waitingFor} (${place.cap}) reached`);
  return parts.join('; ');
}

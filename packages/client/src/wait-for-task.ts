import { sleep } from './abortable.ts';
import type { PollSchedule, StallPolicy } from './client-options.ts';
import { TaskCancelledError, TaskFailedError, TaskTimeoutError, TasklaneConnectionError } from './errors.ts';
import { isNewerState } from './newer-state.ts';
import { pollIntervals } from './poll-schedule.ts';
import { StallDetector, type StallInfo } from './stall-detector.ts';
import { isTerminal, type CancelledTask, type CompletedTask, type FailedTask, type Task } from './task-types.ts';

/** How an update reached `waitFor`. */
export type UpdateSource = 'subscription' | 'polling';

export interface ProgressInfo {
  /** `subscription` while the socket works, `polling` after falling back. */
  via: UpdateSource;
}

export interface WaitForOptions {
  /** Give up after this many milliseconds with a `TaskTimeoutError` (the task itself goes on). @default no limit */
  timeout?: number;
  /** Stop waiting: `waitFor` rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Every new state of the task, the current one first, the terminal one last. */
  onProgress?: (task: Task, info: ProgressInfo) => void;
  /** The task has not changed for `stall.after` checks in a row; called once per quiet spell. */
  onStalled?: (task: Task, info: StallInfo) => void;
  /** Overrides the client's poll schedule. */
  polling?: PollSchedule;
  /** Overrides the client's stall detection. */
  stall?: StallPolicy;
}

export interface WaitDeps {
  get(id: string, signal: AbortSignal): Promise<Task>;
  watch(id: string, signal: AbortSignal): AsyncIterable<Task>;
  polling: Required<PollSchedule>;
  stall: Required<StallPolicy>;
}

/**
 * Follows a task to its end: over the subscription while the socket works, then by polling with
 * the seed's backoff if it cannot be used. Resolves with the completed task; rejects with a
 * `TaskFailedError`, `TaskCancelledError`, `TaskTimeoutError`, the signal's reason, or the
 * request/connection error that made following it impossible.
 */
export async function waitForTask(deps: WaitDeps, id: string, options: WaitForOptions = {}): Promise<CompletedTask> {
  const polling = { ...deps.polling, ...options.polling };
  const stallPolicy = { ...deps.stall, ...options.stall };
  const controller = new AbortController();
  const signal = controller.signal;
  let last: Task | undefined;

  const onOuterAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onOuterAbort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const timer = options.timeout === undefined ? undefined : setTimeout(() => controller.abort(new TaskTimeoutError(id, options.timeout!, last)), options.timeout);

  const stall = new StallDetector(stallPolicy.after, (task, info) => options.onStalled?.(task, info));
  let via: UpdateSource = 'subscription';
  const seen = (task: Task) => {
    // A queue push repeats the version with a moved place: shown, not dropped.
    if (!isNewerState(last, task)) return;
    last = task;
    stall.changed(task);
    options.onProgress?.(task, { via });
  };
  const ticker = setInterval(() => via === 'subscription' && stall.check(last), stallPolicy.intervalMs);

  try {
    let final: Task | undefined;
    try {
      for await (const task of deps.watch(id, signal)) {
        seen(task);
        if (isTerminal(task)) {
          final = task;
          break;
        }
      }
    } catch (error) {
      // Only a socket that cannot be used sends us to polling; NOT_FOUND and the like are final.
      if (!(error instanceof TasklaneConnectionError) || signal.aborted) throw error;
    }
    if (!final) {
      via = 'polling';
      final = await pollUntilTerminal(deps, id, signal, polling, last !== undefined, (task) => {
        seen(task);
        stall.check(task);
      });
    }
    return settle(final);
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  } finally {
    clearTimeout(timer);
    clearInterval(ticker);
    options.signal?.removeEventListener('abort', onOuterAbort);
    controller.abort();
  }
}

/**
 * The seed's poll loop: read, stop at a terminal state, wait (2 s, ×1.5, ≤ 30 s), read again.
 * Once the task has been seen, a failed read is retried on the same schedule (the server may be
 * restarting); if it was never seen, the address is probably wrong and the error is thrown.
 */
async function pollUntilTerminal(
  deps: WaitDeps,
  id: string,
  signal: AbortSignal,
  schedule: Required<PollSchedule>,
  seenBefore: boolean,
  onTask: (task: Task) => void,
): Promise<Task> {
  let reached = seenBefore;
  const waits = pollIntervals(schedule);
  for (;;) {
    try {
      const task = await deps.get(id, signal);
      reached = true;
      onTask(task);
      if (isTerminal(task)) return task;
    } catch (error) {
      if (!(error instanceof TasklaneConnectionError) || !reached) throw error;
    }
    await sleep(waits.next().value, signal);
  }
}

/** The terminal task as a result or a typed error. */
export function settle(task: Task): CompletedTask {
  switch (task.status) {
    case 'COMPLETED':
      return task as CompletedTask;
    case 'FAILED':
      throw new TaskFailedError(withError(task));
    case 'CANCELLED':
      throw new TaskCancelledError(task as CancelledTask);
    default:
      throw new Error(`settle: task ${task.id} is ${task.status}, not finished`);
  }
}

/** A failed task always has an error; should one ever lack it, say so rather than crash on null. */
function withError(task: Task): FailedTask {
  return { ...task, status: 'FAILED', error: task.error ?? { type: 'UnknownError', message: task.message ?? 'no error recorded', retryable: false } };
}

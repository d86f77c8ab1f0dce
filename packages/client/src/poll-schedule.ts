import type { PollSchedule, ReconnectPolicy } from './client-options.ts';

/** The seed's exponential backoff: 2 s, then ×1.5 per poll, never more than 30 s. */
export const DEFAULT_POLL_SCHEDULE: Required<PollSchedule> = { initialMs: 2000, factor: 1.5, maxMs: 30_000 };

/** The waits between polls, forever: initial, initial×factor, … capped at max. */
export function* pollIntervals({ initialMs, factor, maxMs }: Required<PollSchedule>): Generator<number, never> {
  let interval = initialMs;
  for (;;) {
    yield Math.min(interval, maxMs);
    interval = Math.min(interval * factor, maxMs);
  }
}

/** 500 ms doubling per attempt up to 10 s, each wait shortened by up to a quarter so clients don't reconnect in lockstep. */
export function defaultReconnectDelay(attempt: number): number {
  const base = Math.min(500 * 2 ** attempt, 10_000);
  return base * (0.75 + Math.random() * 0.25);
}

export const DEFAULT_RECONNECT: Required<ReconnectPolicy> = { attempts: 10, delayMs: defaultReconnectDelay };

import { Backoff, sleep } from './backoff.ts';
import { errorFields, type Logger } from './logger.ts';

export interface Periodic {
  stop(): Promise<void>;
}

/**
 * Runs `job` every `intervalMs`, never two at once. A failed run is logged and retried sooner
 * (with backoff, never later than the interval): these jobs keep leases alive, so an outage
 * must not push the next attempt a whole interval away.
 */
export function startPeriodic(name: string, intervalMs: number, job: () => Promise<void>, log: Logger): Periodic {
  const stopper = new AbortController();
  const backoff = new Backoff(Math.min(250, intervalMs), intervalMs);
  const loop = (async () => {
    let delay = intervalMs;
    let failingSince: number | undefined;
    for (;;) {
      await sleep(delay, stopper.signal);
      if (stopper.signal.aborted) return;
      try {
        await job();
        backoff.reset();
        delay = intervalMs;
        failingSince = undefined;
      } catch (error) {
        delay = backoff.next();
        failingSince ??= Date.now();
        log.warn(`${name} failed; retrying`, { ...errorFields(error), failingForMs: Date.now() - failingSince, retryInMs: delay });
      }
    }
  })();
  return {
    async stop() {
      stopper.abort();
      await loop;
    },
  };
}

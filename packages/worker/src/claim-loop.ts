import type { Task } from '@tasklane/core';
import { Backoff } from './backoff.ts';
import { errorFields, type Logger } from './logger.ts';

export interface ClaimLoopOptions {
  /** Claims up to `max` tasks in one statement. */
  claim: (max: number) => Promise<Task[]>;
  /** Slots this worker has free right now. */
  freeSlots: () => number;
  /** Starts the claimed tasks; called before the next claim is sent. */
  onClaimed: (tasks: Task[]) => void;
  /** Gives back tasks a claim returned after `stop()` was called (it was sent before). */
  onClaimedAfterStop: (tasks: Task[]) => Promise<void>;
  pollIntervalMs: number;
  log: Logger;
}

/**
 * Decides when to claim. Wake-ups (a NOTIFY about new work, a slot freeing, the poll timer) are
 * coalesced to one claim per tick, and a wake-up during a claim makes one more round afterwards
 * instead of a parallel claim. Claims repeat while slots are free and the last one found work.
 */
export class ClaimLoop {
  private scheduled = false;
  private claiming: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private pollTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff(100, 5000);
  private backingOff = false;
  /** When the claims started failing, every one since; undefined while they succeed. */
  private failingSince: number | undefined;

  constructor(private readonly options: ClaimLoopOptions) {}

  start(): void {
    this.stopped = false;
    this.pollTimer = setInterval(() => this.wake(), this.options.pollIntervalMs);
    this.wake();
  }

  /** A hint that there may be work; cheap to call often. */
  wake(): void {
    if (this.stopped || this.backingOff) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.stopped || this.claiming) return;
      this.claiming = this.run().finally(() => {
        this.claiming = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
    });
  }

  /** Stops claiming; resolves once a claim in flight has returned and its tasks are given back. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.retryTimer);
    await this.claiming;
  }

  private async run(): Promise<void> {
    for (;;) {
      const free = this.options.freeSlots();
      if (free <= 0 || this.stopped) return;
      this.again = false;
      let tasks: Task[];
      try {
        tasks = await this.options.claim(free);
        this.backoff.reset();
        this.failingSince = undefined;
      } catch (error) {
        // The database is away: hold off all wake-ups until the backoff ends, then try again.
        const delay = this.backoff.next();
        this.failingSince ??= Date.now();
        this.options.log.warn('claim failed; retrying', { ...errorFields(error), failingForMs: Date.now() - this.failingSince, retryInMs: delay });
        this.backingOff = true;
        this.retryTimer = setTimeout(() => {
          this.backingOff = false;
          this.wake();
        }, delay);
        this.again = false;
        return;
      }
      // A stopping worker starts nothing new, even what a claim sent before the stop has found.
      if (this.stopped) {
        if (tasks.length > 0) await this.options.onClaimedAfterStop(tasks);
        return;
      }
      if (tasks.length > 0) this.options.onClaimed(tasks);
      // Nothing runnable (or the caps are full): wait for the next wake-up rather than spin.
      if (tasks.length === 0 && !this.again) return;
    }
  }
}

import type { EventBus, TaskChange } from '@tasklane/db';

/** One round of waiting: resolves on the first matching change (or bus reconnect) after it was taken. */
export interface Wakeup {
  /** True when woken, false on timeout or abort. */
  wait(timeoutMs: number, signal: AbortSignal): Promise<boolean>;
}

/**
 * Turns the event bus into wake-ups for waiting requests: one bus listener however many requests
 * wait, and a round taken before a database read is woken by a change that lands during the read.
 * A reconnect wakes everyone: notifications sent while disconnected are gone.
 */
export class WakeSignal {
  private round: { promise: Promise<void>; resolve: () => void } | undefined;
  private readonly cleanup: (() => void)[];

  constructor(bus: EventBus, matches: (change: TaskChange) => boolean) {
    this.cleanup = [
      bus.onChanges((changes) => {
        if (this.round && changes.some(matches)) this.fire();
      }),
      bus.onReconnect(() => this.fire()),
    ];
  }

  next(): Wakeup {
    if (!this.round) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.round = { promise, resolve };
    }
    const { promise } = this.round;
    return {
      wait(timeoutMs, signal) {
        if (signal.aborted) return Promise.resolve(false);
        return new Promise<boolean>((resolve) => {
          const done = (woke: boolean) => {
            clearTimeout(timer);
            signal.removeEventListener('abort', onAbort);
            resolve(woke);
          };
          const onAbort = () => done(false);
          const timer = setTimeout(() => done(false), timeoutMs);
          signal.addEventListener('abort', onAbort, { once: true });
          void promise.then(() => done(true));
        });
      },
    };
  }

  private fire(): void {
    const round = this.round;
    this.round = undefined;
    round?.resolve();
  }

  close(): void {
    for (const c of this.cleanup) c();
    this.fire();
  }
}

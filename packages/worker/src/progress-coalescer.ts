import type { Logger } from './logger.ts';
import { errorFields } from './logger.ts';

export interface ProgressUpdate {
  percent: number;
  message: string | null;
}

export interface ProgressCoalescerOptions {
  /** Writes one update; resolves false when the task is no longer held (the write was fenced). */
  write: (update: ProgressUpdate) => Promise<boolean>;
  /** Shortest time between two writes of the same task. @default 250 */
  windowMs?: number;
  log: Logger;
}

/**
 * Turns a burst of `ctx.progress` calls into a few writes: the first call writes at once, calls
 * within the window are merged into one trailing write, and the latest value always lands
 * (unless the task is settled first, which writes its own progress).
 */
export class ProgressCoalescer {
  private pending: ProgressUpdate | undefined;
  private latest: ProgressUpdate | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing = false;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private closed = false;
  /** Writes sent so far (for tests and metrics). */
  writes = 0;

  constructor(private readonly options: ProgressCoalescerOptions) {}

  report(percent: number, message?: string | null): void {
    if (this.closed || !Number.isFinite(percent)) return;
    const clamped = Math.max(0, Math.min(100, percent));
    // A call without a message keeps the last one given, as the store's write does.
    const merged = { percent: clamped, message: message ?? this.pending?.message ?? null };
    this.pending = merged;
    this.latest = { percent: clamped, message: message ?? this.latest?.message ?? null };
    this.schedule();
  }

  /** The last value the handler reported, whether or not it was written. */
  get last(): ProgressUpdate | undefined {
    return this.latest;
  }

  /** Stops writing: the settle (complete, fail, release) carries the final progress instead. */
  close(): ProgressUpdate | undefined {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    return this.latest;
  }

  private schedule(): void {
    if (this.closed || this.timer || this.writing || !this.pending) return;
    const wait = this.lastWriteAt + (this.options.windowMs ?? 250) - performance.now();
    if (wait <= 0) {
      void this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
  }

  private async flush(): Promise<void> {
    const update = this.pending;
    if (this.closed || !update) return;
    this.pending = undefined;
    this.writing = true;
    this.lastWriteAt = performance.now();
    this.writes++;
    try {
      const held = await this.options.write(update);
      // Fenced out: the heartbeat or the bus will abort the handler; nothing more to write.
      if (!held) this.closed = true;
    } catch (error) {
      // The database is away: keep the newest value so that it lands when it is back.
      this.pending ??= update;
      this.options.log.debug('progress write failed; will retry', errorFields(error));
    } finally {
      this.writing = false;
      this.schedule();
    }
  }
}

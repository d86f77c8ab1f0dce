import type { Completion } from './worker-store.ts';

interface Waiting {
  completion: Completion;
  resolve: (held: boolean) => void;
  reject: (error: unknown) => void;
}

export interface CompletionBatcherOptions {
  /** Writes a batch; resolves with the ids that were still held and so completed. */
  write: (batch: Completion[]) => Promise<Set<string>>;
  /** Largest batch in one statement. @default 1000 */
  maxBatch?: number;
  /** Batches written at once; more completions wait and join the next batch. @default 4 */
  maxInFlight?: number;
}

/**
 * Group commit for completions: every completion added in the same tick goes out in one
 * statement, and while the allowed statements are in flight, new ones pile up into the next.
 * Under load batches grow by themselves, so throughput does not stop at one round trip per task.
 */
export class CompletionBatcher {
  private queue: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly options: CompletionBatcherOptions) {}

  /** Resolves true when completed, false when fenced out; rejects when the write failed. */
  add(completion: Completion): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ completion, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  get size(): number {
    return this.queue.length + this.inFlight;
  }

  private pump(): void {
    const maxInFlight = this.options.maxInFlight ?? 4;
    const maxBatch = this.options.maxBatch ?? 1000;
    while (this.queue.length > 0 && this.inFlight < maxInFlight) {
      const batch = this.queue.splice(0, maxBatch);
      this.inFlight++;
      this.options
        .write(batch.map((w) => w.completion))
        .then(
          (held) => {
            for (const w of batch) w.resolve(held.has(w.completion.id));
          },
          (error: unknown) => {
            for (const w of batch) w.reject(error);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}

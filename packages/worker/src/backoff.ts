/**
 * Delays for retrying a database call during an outage: doubling from `minMs` to `maxMs`, reset
 * after a success. Deterministic on purpose; these are a handful of per-process loops, not a herd.
 */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly minMs = 100,
    private readonly maxMs = 5000,
  ) {}

  next(): number {
    const delay = Math.min(this.maxMs, this.minMs * 2 ** this.failures);
    this.failures++;
    return delay;
  }

  reset(): void {
    this.failures = 0;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

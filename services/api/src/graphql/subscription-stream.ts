/** Options of {@link SubscriptionStream}. */
export interface SubscriptionStreamOptions {
  /**
   * Ends the stream when it aborts: the request signal of an SSE response, which aborts when the
   * client goes away.
   */
  signal?: AbortSignal | undefined;
  /** Called once when the stream ends, however it ends (completed, returned, failed, aborted). */
  onClose?: () => void;
}

/**
 * Wraps a subscription's source so that ending it from outside really ends it. A transport ends a
 * subscription by calling `return()`, but `return()` on an async generator that is parked in an
 * `await` (waiting for the next change) only takes effect after that await, which may be never:
 * the generator, its listener and the last task it read would stay in memory. So `return()` first
 * aborts the signal the source was opened with, which releases the await at once.
 */
export class SubscriptionStream<T> implements AsyncIterableIterator<T> {
  private readonly controller = new AbortController();
  private readonly source: AsyncIterator<T>;
  private readonly outer: AbortSignal | undefined;
  private readonly onClose: (() => void) | undefined;
  private head: IteratorResult<T> | undefined;
  private closed = false;
  private readonly abortFromOuter = () => void this.return();

  constructor(open: (signal: AbortSignal) => AsyncIterator<T>, { signal, onClose }: SubscriptionStreamOptions = {}) {
    this.outer = signal;
    this.onClose = onClose;
    this.source = open(this.controller.signal);
    signal?.addEventListener('abort', this.abortFromOuter, { once: true });
    if (signal?.aborted) void this.return();
  }

  /**
   * Reads the first item ahead, so that a source failing at once (an unknown task id) fails the
   * subscribe call with a proper GraphQL error instead of breaking an established stream.
   */
  async ready(): Promise<this> {
    try {
      this.head = await this.source.next();
      if (this.head.done) this.finish();
    } catch (error) {
      await this.return();
      throw error;
    }
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    const head = this.head;
    if (head) {
      this.head = undefined;
      return head;
    }
    if (this.closed) return { value: undefined, done: true };
    try {
      const result = await this.source.next();
      if (result.done) this.finish();
      return result;
    } catch (error) {
      this.finish();
      throw error;
    }
  }

  async return(): Promise<IteratorResult<T>> {
    this.head = undefined;
    this.finish();
    await this.source.return?.();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.controller.abort();
    this.outer?.removeEventListener('abort', this.abortFromOuter);
    this.onClose?.();
  }
}

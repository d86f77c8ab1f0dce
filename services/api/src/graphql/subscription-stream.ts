/** What a source that can push offers (the feed's `Following`): see {@link SubscriptionStream.pushTo}. */
export interface PushSink<T> {
  /** One item; false while the reader cannot take more (the source keeps the newest until `resume`). */
  next(item: T): boolean;
  /** Once, when no item will follow; with the error that ended the source, if any. */
  end(error?: unknown): void;
}

interface PushSource<T> {
  pushTo(sink: PushSink<T>): void;
  resume(): void;
}

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
 * The reason every stream's own signal aborts with. Without one, each `abort()` would make a fresh
 * `AbortError` DOMException (a stack captured, and an entry in Node's process-wide table of
 * DOMExceptions, whose capacity stays at its peak): one per subscription that ends. Nothing reads
 * the reason; the sources only listen for the abort.
 */
const STREAM_ENDED = new Error('subscription stream ended');

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

  /**
   * Switches to push: every further item goes to `sink` as the source produces it, without a
   * promise per item. Returns how to resume after `sink.next` answered false, or undefined when
   * the source can only be pulled (then keep calling `next`). Call only after the head was read.
   */
  pushTo(sink: PushSink<T>): (() => void) | undefined {
    const source = this.source as Partial<PushSource<T>>;
    if (this.head || typeof source.pushTo !== 'function' || typeof source.resume !== 'function') return undefined;
    if (this.closed) {
      sink.end();
      return () => {};
    }
    source.pushTo({
      next: (item) => sink.next(item),
      end: (error) => {
        this.finish();
        sink.end(error);
      },
    });
    return () => source.resume!();
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
    this.controller.abort(STREAM_ENDED);
    this.outer?.removeEventListener('abort', this.abortFromOuter);
    this.onClose?.();
  }
}

import { TaskNotFoundError, isTerminal, type Task } from '@tasklane/core';
import { pushedPlace } from './pushed-place.ts';

/** Takes a followed task's states as they arrive (see {@link Following.pushTo}). */
export interface TaskSink {
  /**
   * One state, newer than the last. Returns false while the reader cannot take more: the newest
   * state is then kept (older unread ones are dropped) until {@link Following.resume}.
   */
  next(task: Task): boolean;
  /** Called once when no state will follow: after the terminal one, on close, or with the error. */
  end(error?: unknown): void;
}

/**
 * One task followed through the feed: its current state, then each newer state, ending after a
 * terminal one. Read by pulling (`for await`) or, for many subscribers at once, by having states
 * pushed to a {@link TaskSink} straight from the feed's delivery, without a promise per state.
 * Unread states never pile up: a slow reader skips to the newest, and the terminal state, being
 * the newest there is, is never skipped.
 */
export class Following implements AsyncIterableIterator<Task> {
  /** The newest version accepted so far (unread or handed out). */
  private newest: number;
  /**
   * The newest queue push accepted for that version: a push repeats the version with a new
   * place, so it passes the version check only when it is newer than the last push taken.
   */
  private newestPush = 0;
  private unread: Task | undefined;
  /** Nothing is handed out before the scoped read confirmed the caller may see the task. */
  private started = false;
  private finished = false;
  private failure: unknown;
  private waiting: { resolve: (result: IteratorResult<Task>) => void; reject: (error: unknown) => void } | undefined;
  private sink: TaskSink | undefined;
  private paused = false;
  private readonly stop: () => void;

  constructor(
    id: string,
    watch: (listener: (task: Task) => void) => () => void,
    read: () => Promise<Task | undefined>,
    afterVersion: number,
    private readonly signal: AbortSignal | undefined,
    /** Whether queue pushes (the same version with a new place) are handed out too. */
    private readonly takesPushes = false,
  ) {
    this.newest = afterVersion;
    // Watch before reading, so no change between the read and the watch can be lost.
    this.stop = watch(this.offer);
    signal?.addEventListener('abort', this.close, { once: true });
    if (signal?.aborted) this.close();
    read().then(
      (current) => (current ? this.onRead(current) : this.fail(new TaskNotFoundError(id))),
      (error: unknown) => this.fail(error),
    );
  }

  private onRead(current: Task): void {
    if (this.finished) return;
    this.started = true;
    if (current.version > this.newest) {
      this.newest = current.version;
      this.newestPush = pushedPlace(current)?.seq ?? this.newestPush;
      this.unread = current;
    } else if (current.version === this.newest && this.unread && pushedPlace(current) && !pushedPlace(this.unread)) {
      // The feed handed over the same version first, without the place this read came with.
      this.newestPush = pushedPlace(current)!.seq;
      this.unread = current;
    } else if (isTerminal(current.status) && !this.unread) {
      // Already past its last state: nothing will follow.
      return this.finish();
    }
    this.flush();
  }

  private readonly offer = (task: Task): void => {
    if (this.finished || task.version < this.newest) return;
    const push = pushedPlace(task);
    if (push && !this.takesPushes) return;
    if (task.version === this.newest && !(push && push.seq > this.newestPush)) return;
    this.newest = task.version;
    if (push) this.newestPush = push.seq;
    this.unread = task;
    if (this.started) this.flush();
  };

  private flush(): void {
    const task = this.unread;
    if (!task || this.finished) return;
    if (this.sink) {
      if (this.paused) return;
      this.unread = undefined;
      let more = false;
      try {
        more = this.sink.next(task);
      } catch (error) {
        return this.fail(error);
      }
      if (isTerminal(task.status)) return this.finish();
      if (!more) this.paused = true;
      return;
    }
    const waiting = this.waiting;
    if (!waiting) return;
    this.waiting = undefined;
    this.unread = undefined;
    if (isTerminal(task.status)) this.finish();
    waiting.resolve({ value: task, done: false });
  }

  next(): Promise<IteratorResult<Task>> {
    if (this.started && this.unread && !this.finished) {
      const task = this.unread;
      this.unread = undefined;
      if (isTerminal(task.status)) this.finish();
      return Promise.resolve({ value: task, done: false });
    }
    if (this.finished) {
      const failure = this.failure;
      this.failure = undefined;
      return failure === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(failure);
    }
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /**
   * From now on, hands every state to `sink` as the feed delivers it (synchronously, in version
   * order) instead of waiting to be pulled. The pull side must not be read any more.
   */
  pushTo(sink: TaskSink): void {
    this.sink = sink;
    if (this.finished) {
      const failure = this.failure;
      this.failure = undefined;
      sink.end(failure);
      return;
    }
    this.flush();
  }

  /** After a `next` that answered false: hands over the newest unread state, if any, and goes on. */
  resume(): void {
    this.paused = false;
    this.flush();
  }

  return(): Promise<IteratorResult<Task>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  readonly close = (): void => {
    this.unread = undefined;
    this.finish();
  };

  private fail(error: unknown): void {
    if (this.finished) return;
    this.failure = error;
    this.unread = undefined;
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.stop();
    this.signal?.removeEventListener('abort', this.close);
    const waiting = this.waiting;
    this.waiting = undefined;
    const sink = this.sink;
    const failure = this.failure;
    if (waiting) {
      this.failure = undefined;
      if (failure === undefined) waiting.resolve({ value: undefined, done: true });
      else waiting.reject(failure);
    } else if (sink) {
      this.failure = undefined;
      sink.end(failure);
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

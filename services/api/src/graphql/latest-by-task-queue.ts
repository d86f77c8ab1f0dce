import type { Task } from '@tasklane/core';

/**
 * A push-to-pull queue that keeps only the newest unread state of each task. A dashboard that
 * reads slower than tasks change would otherwise buffer every intermediate state; here the
 * backlog is bounded by the number of distinct tasks, and a reader never sees an older state after
 * a newer one. Ends on `close()` or when the signal aborts.
 */
export class LatestByTaskQueue implements AsyncIterableIterator<Task> {
  private readonly unread = new Map<string, Task>();
  private waiting: ((result: IteratorResult<Task>) => void) | undefined;
  private done = false;

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', this.close, { once: true });
    if (signal.aborted) this.close();
  }

  push(task: Task): void {
    if (this.done) return;
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = undefined;
      waiting({ value: task, done: false });
      return;
    }
    const older = this.unread.get(task.id);
    // Map.set keeps the task's place in line, so a busy task cannot starve the others.
    // The same version again is a queue push (a new place for an unchanged row): newer news.
    if (!older || older.version <= task.version) this.unread.set(task.id, task);
  }

  readonly close = (): void => {
    if (this.done) return;
    this.done = true;
    this.unread.clear();
    this.signal.removeEventListener('abort', this.close);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.({ value: undefined, done: true });
  };

  next(): Promise<IteratorResult<Task>> {
    const first = this.unread.entries().next();
    if (!first.done) {
      this.unread.delete(first.value[0]);
      return Promise.resolve({ value: first.value[1], done: false });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<Task>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

import type { Task } from '@tasklane/core';
import { Following } from './following.ts';
import type { EventBus, TaskChange } from './event-bus.ts';
import { withPushedPlace } from './pushed-place.ts';
import type { PlacedTask } from './queue-places.ts';
import type { Scope, TaskStore } from './task-store.ts';

type Listener = (task: Task) => void;

/** What the queue pusher learns from the feed: which ids are followed, and what it delivers. */
export interface FeedObserver {
  /** A follower that takes queue pushes starts following `id` (before it watches and reads). */
  following(id: string): void;
  /**
   * A follower that takes queue pushes read the task's current state: answers it with its place
   * attached when it is pending.
   */
  placeOnRead(task: Task): Promise<Task>;
  /** The last listener of `id` went. */
  unfollowed(id: string): void;
  /** A state read because its row changed was handed out; `toEveryTask` when listeners of every task got it. */
  delivered(task: Task, toEveryTask: boolean): void;
}

const READ_BATCH = 500;
const RETRY_READ_MS = 500;
/** Allowance for the app's and the database's clocks disagreeing when resyncing by time. */
const RESYNC_MARGIN_MS = 5000;
/** Most rows a resync hands to listeners of every task; a dashboard reloads beyond that. */
const RESYNC_LIMIT = 10_000;
/**
 * Ids whose newest version sent to listeners of every task is remembered, newest first: twice a
 * resync, so that the rows a resync reads again are recognised as already sent.
 */
const EVERY_TASK_REMEMBERED = 2 * RESYNC_LIMIT;

export interface FollowOptions extends Scope {
  signal?: AbortSignal;
  /** Skip states at or below this version (resuming after `Last-Event-ID`). */
  afterVersion?: number;
  /**
   * Also take queue pushes: while the task is pending, the same version again whenever its queue
   * place moves (see `QueuePusher`), carrying the place (`pushedPlace`). Off for readers to whom
   * a pending task's place shows nothing, such as the seed's plain GET body.
   * @default false
   */
  queuePushes?: boolean;
}

/**
 * Fans task changes out to this process's subscribers. Announcements from the bus are collected,
 * the changed rows read in batches (one read per change for the whole process, however many
 * subscribers follow it), and each row handed to the listeners of its id and to the listeners
 * of all tasks. After the bus reconnects, every followed task is read again, and so is every task
 * changed since the last change seen when someone listens to all tasks: a subscriber misses no
 * state that matters, at worst intermediate ones are coalesced.
 */
export class TaskFeed {
  private readonly byId = new Map<string, Set<Listener>>();
  private readonly everyTask = new Set<Listener>();
  /** The newest version delivered for each followed id; older announcements need no read. */
  private readonly delivered = new Map<string, number>();
  private readonly toRead = new Set<string>();
  private reading = false;
  /**
   * The newest version sent to listeners of every task, for the most recently changed ids: a
   * row read twice (a resync, an announcement that arrived while its read was in flight) or an
   * older row read after a newer one is not sent again.
   */
  private readonly everyTaskDelivered = new Map<string, number>();
  /** Listeners to every task have seen every change up to about here (database time where known). */
  private everyTaskSyncedAt = new Date();
  private readonly unsubscribe: (() => void)[];
  /** Rows read by this feed so far (for metrics and for the "one read per change" tests). */
  rowsRead = 0;
  private observer: FeedObserver | undefined;

  constructor(
    private readonly store: TaskStore,
    private readonly bus: EventBus,
  ) {
    this.unsubscribe = [bus.onChanges((changes) => this.announce(changes)), bus.onReconnect(() => this.resync())];
  }

  /** Number of ids with at least one follower, and of listeners to every task. */
  get size(): { tasks: number; everyTask: number } {
    return { tasks: this.byId.size, everyTask: this.everyTask.size };
  }

  /** Tells `observer` of follows and deliveries from now on (one observer: the queue pusher). */
  observe(observer: FeedObserver): void {
    this.observer = observer;
  }

  isFollowed(id: string): boolean {
    return this.byId.has(id);
  }

  watch(id: string, listener: Listener): () => void {
    let listeners = this.byId.get(id);
    if (!listeners) this.byId.set(id, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.byId.get(id) === listeners) {
        this.byId.delete(id);
        this.delivered.delete(id);
        this.observer?.unfollowed(id);
      }
    };
  }

  watchAll(listener: Listener): () => void {
    if (this.everyTask.size === 0) this.everyTaskSyncedAt = new Date();
    this.everyTask.add(listener);
    return () => {
      this.everyTask.delete(listener);
      if (this.everyTask.size === 0) this.everyTaskDelivered.clear();
    };
  }

  /**
   * The task's current state, then each newer state, ending after a terminal one; see
   * {@link Following}. Fails with `TaskNotFoundError` for an unknown id (or another owner's).
   */
  follow(id: string, options: FollowOptions = {}): Following {
    if (options.queuePushes) this.observer?.following(id);
    return new Following(
      id,
      (listener) => this.watch(id, listener),
      async () => {
        const task = await this.store.get(id, options);
        return task && options.queuePushes && this.observer ? this.observer.placeOnRead(task) : task;
      },
      options.afterVersion ?? 0,
      options.signal,
      options.queuePushes ?? false,
    );
  }

  /** Resolves with the task once its version passes `afterVersion`, or undefined after `timeoutMs`. */
  async waitForChange(id: string, afterVersion: number, timeoutMs: number, scope: Scope = {}): Promise<Task | undefined> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      for await (const task of this.follow(id, { ...scope, signal: controller.signal, afterVersion })) return task;
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private announce(changes: TaskChange[]): void {
    const everything = this.everyTask.size > 0;
    for (const change of changes) {
      if (!everything && !this.byId.has(change.id)) continue;
      if ((this.delivered.get(change.id) ?? 0) >= change.version) continue;
      this.toRead.add(change.id);
    }
    void this.drain();
  }

  private resync(): void {
    for (const id of this.byId.keys()) this.toRead.add(id);
    void this.drain();
    if (this.everyTask.size > 0) void this.resyncEveryTask();
  }

  /** Announcements sent while the bus was away are gone: read what changed since, by time. */
  private async resyncEveryTask(): Promise<void> {
    const since = new Date(this.everyTaskSyncedAt.getTime() - RESYNC_MARGIN_MS);
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const tasks = await this.store.changedSince(since, RESYNC_LIMIT);
        this.rowsRead += tasks.length;
        for (const task of tasks) this.deliver(task);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RETRY_READ_MS).unref());
      }
    }
  }

  private async drain(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      let next = this.readNext();
      while (next) {
        const { ids, tasks } = await next;
        if (!tasks) {
          // The database is away: keep the ids and try again; the bus will resync on reconnect too.
          for (const id of ids) this.toRead.add(id);
          await new Promise((resolve) => setTimeout(resolve, RETRY_READ_MS).unref());
          next = this.readNext();
          continue;
        }
        // Delivering a batch to thousands of subscribers keeps this process busy for a while; the
        // next batch's rows are already on their way meanwhile instead of being asked for after.
        next = this.readNext();
        this.rowsRead += tasks.length;
        for (const task of tasks) this.deliver(task);
      }
    } finally {
      this.reading = false;
    }
  }

  /** Starts reading the next batch of announced ids, if any; failures resolve with no tasks. */
  private readNext(): Promise<{ ids: string[]; tasks?: Task[] }> | undefined {
    if (this.toRead.size === 0) return undefined;
    const ids = [...this.toRead].slice(0, READ_BATCH);
    // Taken off before the read: an announcement that arrives while the read is in flight may be
    // for a change the read does not see, and must put its id back for another read.
    for (const id of ids) this.toRead.delete(id);
    return this.store.getMany(ids).then(
      (tasks) => ({ ids, tasks }),
      () => ({ ids }),
    );
  }

  private deliver(task: Task): void {
    const listeners = this.byId.get(task.id);
    if (listeners) {
      if ((this.delivered.get(task.id) ?? 0) >= task.version) return;
      this.delivered.set(task.id, task.version);
      for (const listener of [...listeners]) listener(task);
    }
    this.observer?.delivered(task, this.everyTask.size > 0);
    if (this.everyTask.size === 0) return;
    if ((this.everyTaskDelivered.get(task.id) ?? 0) >= task.version) return;
    // Deleted first so that the id moves to the newest end; the oldest end is forgotten.
    this.everyTaskDelivered.delete(task.id);
    this.everyTaskDelivered.set(task.id, task.version);
    if (this.everyTaskDelivered.size > EVERY_TASK_REMEMBERED) this.everyTaskDelivered.delete(this.everyTaskDelivered.keys().next().value!);
    if (task.updatedAt > this.everyTaskSyncedAt) this.everyTaskSyncedAt = task.updatedAt;
    for (const listener of this.everyTask) listener(task);
  }

  /**
   * Hands queue pushes out: each task's state again, with its new place attached (see
   * `pushedPlace`), to its listeners and to listeners of every task. A push never moves
   * `delivered` on: followers that take no pushes drop it, and must still get the feed's own read
   * of a version that the pusher happened to read first. A push older than what was delivered
   * (the task changed since the pusher read it) is dropped.
   */
  pushPlaces(placed: readonly PlacedTask[]): void {
    for (const { task, place } of placed) {
      if ((this.delivered.get(task.id) ?? 0) > task.version) continue;
      const state = withPushedPlace(task, place);
      const listeners = this.byId.get(task.id);
      if (listeners) for (const listener of [...listeners]) listener(state);
      for (const listener of this.everyTask) listener(state);
    }
  }

  close(): void {
    for (const stop of this.unsubscribe) stop();
  }
}

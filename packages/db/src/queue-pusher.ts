import type pg from 'pg';
import type { ConcurrencyCaps, QueuePlace, Task } from '@tasklane/core';
import type { EventBus, TaskChange } from './event-bus.ts';
import { samePlace, withPushedPlace } from './pushed-place.ts';
import { pendingPlaces, queuePlaces } from './queue-places.ts';
import type { TaskFeed } from './task-feed.ts';

export interface QueuePusherOptions {
  /** Least time between two rounds, so each task gets at most one queue push per interval. @default 1000 */
  intervalMs?: number;
  /**
   * Most pending tasks seen by listeners of every task (dashboards) whose places are pushed; the
   * most recently seen are kept. About a dashboard page: each costs an indexed count per round.
   * @default 100
   */
  maxEveryTask?: number;
  /**
   * How often the ETAs of followed tasks are read again when nothing of their kind was announced:
   * an ETA counts down while the tasks ahead run, with no change to announce. @default 5000
   */
  etaRefreshMs?: number;
  /** Rounds run only when `flush()` (or `refreshEtas()`) is called (tests count reads and pushes round by round). @default false */
  manual?: boolean;
}

interface Tracked {
  /** The announcement count when tracking began: a change announced after it may have moved the task. */
  since: number;
  /** The place last read (and pushed, when it had moved). */
  place?: QueuePlace;
  /** Followed by id (not only seen by listeners of every task). */
  byId: boolean;
}

/** A task id's kind prefix (`vid` of `vid_…`): announcements carry ids, not kinds. */
function idPrefix(id: string): string {
  return id.slice(0, id.lastIndexOf('_'));
}

/**
 * Pushes queue places to the subscribers of pending tasks in this process. A pending task's row
 * does not change while tasks ahead of it start, so the feed alone never tells its subscribers
 * that it moved. This keeps the ids that are followed (by id, or seen pending by listeners of
 * every task), and at most once per interval, only when claims or finishes of their kinds (or
 * returns to pending) were announced since the last round, reads the places of all of them of
 * those kinds in one batched read ({@link pendingPlaces}), then hands the feed a push for each
 * task whose place moved. The cost is a read per round for the tasks followed, whatever the number
 * of claims and the length of the queue; a task whose place did not move gets nothing.
 */
export class QueuePusher {
  private readonly tracked = new Map<string, Tracked>();
  /** Ids seen pending by listeners of every task, least recently seen first (a Set keeps insertion order). */
  private readonly everyTaskPending = new Set<string>();
  /** Tracked ids per kind prefix: an announcement of another kind needs no round. */
  private readonly prefixes = new Map<string, number>();
  /** Announcement batches so far, and the count at each prefix's last relevant one. */
  private announced = 0;
  private readonly changedAt = new Map<string, number>();
  private dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastRoundAt = -Infinity;
  private closed = false;
  private readonly unsubscribe: (() => void)[];
  private readonly intervalMs: number;
  private readonly maxEveryTask: number;
  private readonly manual: boolean;
  private readonly etaRefreshMs: number;
  private etaTimer: NodeJS.Timeout | undefined;
  /** Rounds that read places, places read, and pushes made so far (metrics and tests). */
  rounds = 0;
  placesRead = 0;
  pushes = 0;

  constructor(
    private readonly feed: TaskFeed,
    bus: EventBus,
    private readonly pool: pg.Pool,
    private readonly caps: ConcurrencyCaps,
    { intervalMs = 1000, maxEveryTask = 100, etaRefreshMs = 5000, manual = false }: QueuePusherOptions = {},
  ) {
    this.intervalMs = intervalMs;
    this.etaRefreshMs = etaRefreshMs;
    this.maxEveryTask = maxEveryTask;
    this.manual = manual;
    this.unsubscribe = [bus.onChanges((changes) => this.announce(changes)), bus.onReconnect(() => this.markAll())];
    feed.observe({
      following: (id) => this.track(id, true),
      placeOnRead: (task) => this.placeOnRead(task),
      unfollowed: (id) => this.untrack(id, true),
      delivered: (task, toEveryTask) => this.seen(task, toEveryTask),
    });
  }

  /** Ids whose places are pushed now. */
  get size(): number {
    return this.tracked.size;
  }

  /** Whether announcements wait for a round. */
  get due(): boolean {
    return this.dirty.size > 0;
  }

  private track(id: string, byId: boolean): void {
    const entry = this.tracked.get(id);
    if (entry) {
      entry.byId ||= byId;
      return;
    }
    this.tracked.set(id, { since: this.announced, byId });
    const prefix = idPrefix(id);
    this.prefixes.set(prefix, (this.prefixes.get(prefix) ?? 0) + 1);
  }

  private untrack(id: string, byId: boolean): void {
    const entry = this.tracked.get(id);
    if (!entry) return;
    if (byId) entry.byId = false;
    if (entry.byId || this.everyTaskPending.has(id)) return;
    this.tracked.delete(id);
    const prefix = idPrefix(id);
    const left = (this.prefixes.get(prefix) ?? 1) - 1;
    if (left > 0) this.prefixes.set(prefix, left);
    else this.prefixes.delete(prefix);
  }

  /**
   * The place read with a follower's first state is what that follower knows: it is the baseline
   * the next round compares with. Where one is held already (another follower's), the older one
   * stays, so that follower too gets a push if the place moved since.
   */
  private async placeOnRead(task: Task): Promise<Task> {
    if (task.status !== 'pending') return task;
    let place: QueuePlace | undefined;
    try {
      place = (await queuePlaces(this.pool, [task], this.caps)).get(task.id);
    } catch {
      return task;
    }
    if (!place) return task;
    const entry = this.tracked.get(task.id);
    if (entry && !entry.place) entry.place = place;
    return withPushedPlace(task, place);
  }

  /** Dashboards list tasks first and then only get changes: a pending task they saw is kept up to date. */
  private seen(task: Task, toEveryTask: boolean): void {
    if (!toEveryTask) return;
    if (task.status === 'pending') {
      this.everyTaskPending.delete(task.id);
      this.everyTaskPending.add(task.id);
      this.track(task.id, false);
      if (this.everyTaskPending.size > this.maxEveryTask) this.dropEveryTask(this.everyTaskPending.values().next().value!);
    } else if (this.everyTaskPending.has(task.id)) {
      this.dropEveryTask(task.id);
    }
  }

  private dropEveryTask(id: string): void {
    this.everyTaskPending.delete(id);
    this.untrack(id, false);
  }

  private announce(changes: TaskChange[]): void {
    this.announced++;
    for (const change of changes) {
      // Every change of a kind may move its queue: claims, finishes and returns to pending, and
      // fresh submissions too, since another owner's task takes the head's turn (fair order) and
      // a higher priority goes first. Rounds are coalesced per interval, so a burst costs one.
      const prefix = idPrefix(change.id);
      if (!this.prefixes.has(prefix)) continue;
      this.changedAt.set(prefix, this.announced);
      this.dirty.add(prefix);
    }
    this.schedule();
  }

  /** After the bus was away, announcements were missed: every tracked kind may have moved. */
  private markAll(): void {
    this.announced++;
    for (const prefix of this.prefixes.keys()) {
      this.changedAt.set(prefix, this.announced);
      this.dirty.add(prefix);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.manual || this.closed || this.timer || this.running || this.dirty.size === 0) return;
    const wait = Math.max(0, this.lastRoundAt + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, wait);
    this.timer.unref();
  }

  /**
   * Marks the kinds of followed tasks that have an ETA for a round: their places are read again
   * and pushed where the ETA drifted past {@link sameEta}'s tolerance. Runs every etaRefreshMs
   * while such tasks are followed; a manual pusher's round follows with `flush()`.
   */
  refreshEtas(): void {
    for (const [id, entry] of this.tracked) {
      if (entry.place?.etaSeconds) this.dirty.add(idPrefix(id));
    }
    this.schedule();
  }

  private scheduleEtaRefresh(): void {
    if (this.manual || this.closed || this.etaTimer) return;
    this.etaTimer = setTimeout(() => {
      this.etaTimer = undefined;
      this.refreshEtas();
    }, this.etaRefreshMs);
    this.etaTimer.unref();
  }

  /** Runs a round now (waiting for one under way first); for tests and `manual` pushers. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) await this.running;
    await this.run();
  }

  private async run(): Promise<void> {
    this.lastRoundAt = Date.now();
    const round = this.round();
    this.running = round.then(
      () => undefined,
      () => undefined,
    );
    try {
      await round;
    } finally {
      this.running = undefined;
      this.schedule();
    }
  }

  private async round(): Promise<void> {
    const kinds = this.dirty;
    this.dirty = new Set();
    if (this.feed.size.everyTask === 0) for (const id of [...this.everyTaskPending]) this.dropEveryTask(id);
    const ids = [...this.tracked.keys()].filter((id) => kinds.has(idPrefix(id)));
    if (ids.length === 0) return;
    let placed;
    try {
      placed = await pendingPlaces(this.pool, ids, this.caps);
    } catch {
      // The database is away: try these kinds again next round.
      for (const kind of kinds) this.dirty.add(kind);
      return;
    }
    this.rounds++;
    this.placesRead += placed.length;
    const moved = placed.filter(({ task, place }) => {
      const entry = this.tracked.get(task.id);
      if (!entry) return false;
      const before = entry.place;
      // With no place read yet, the subscriber's own read is the baseline: it is stale only if
      // something of its kind was announced since the task was first followed.
      const stale = before ? !samePlace(before, place) : (this.changedAt.get(idPrefix(task.id)) ?? 0) > entry.since;
      // The baseline is what the followers were last told, so an ETA's small drifts add up to a
      // push once they pass the tolerance, instead of each being forgotten.
      if (stale || !before) entry.place = place;
      return stale;
    });
    this.pushes += moved.length;
    if (moved.length > 0) this.feed.pushPlaces(moved);
    if (placed.some(({ place }) => place.etaSeconds)) this.scheduleEtaRefresh();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.etaTimer);
    for (const stop of this.unsubscribe) stop();
  }
}
